// Trains the paper's start model on the embedded digits set through the
// library API, the way `secnn train` does, then reloads the best checkpoint
// and evaluates it on the test set.
//
//     swift run -c release train-digits [EPOCHS] [OUTPUT-DIRECTORY]
//
// EPOCHS defaults to 10, OUTPUT-DIRECTORY to a fresh temporary directory.
// The output ends with key=value lines, as the CLI's does.

import Foundation
import SECNNData
import SECNNModel

// Arguments: an epoch count and an output directory, both optional.
let arguments = CommandLine.arguments.dropFirst()
guard let epochs = Int(arguments.first ?? "10"), epochs >= 1 else {
    FileHandle.standardError.write(Data("usage: train-digits [EPOCHS >= 1] [OUTPUT-DIRECTORY]\n".utf8))
    exit(64)
}
let directory = arguments.dropFirst().first
    ?? (NSTemporaryDirectory() as NSString).appendingPathComponent("train-digits-\(getpid())")

/// Prints one line per finished epoch. `TrainingObserver` also reports every
/// optimisation step (for progress bars); this example ignores those.
final class EpochPrinter: TrainingObserver {
    func trainingStep(epoch: Int, step: Int, steps: Int, imagesPerSecond: Double) {}

    func epochFinished(_ metrics: EpochMetrics, totalEpochs: Int, elapsed: Double, isBest: Bool) {
        print(String(format: "epoch %d/%d  loss=%.4f  val_acc=%.4f", metrics.epoch, totalEpochs,
                     metrics.trainLoss, metrics.validationAccuracy) + (isBest ? "  (best so far)" : ""))
    }
}

do {
    // 1. The data: 1,797 embedded 8×8 digit images, split 80/20 into train and test.
    //    TrainingData holds out a seeded 10% of the training images for
    //    validation and normalises everything with the training images' statistics.
    var configuration = TrainingConfiguration()
    configuration.epochs = epochs
    configuration.seed = 1
    let data = TrainingData(try DatasetSource.digits.load(), validation: configuration.validation,
                            seed: configuration.seed)

    // 2. The architecture: three blocks of 16 channels with one 3×3 conv each.
    //    The input shape (1×8×8) and the class count (10) come from the data.
    let spec = try data.architecture("16x1,16x1,16x1")
    print("training \(spec) (\(spec.parameterCount) parameters) on \(data.name) for \(epochs) epochs; "
          + "checkpoints in \(directory)")

    // 3. Training. The trainer writes best.safetensors (best validation
    //    accuracy so far) and last.safetensors into the directory after every epoch.
    let trainer = try Trainer(data: data, spec: spec, configuration: configuration, directory: directory)
    let summary = try trainer.run(observer: EpochPrinter())

    // 4. Reload the best checkpoint as any other program would, and evaluate
    //    it on the test set with the normalisation stored in the checkpoint.
    let checkpoint = try Checkpoint(contentsOf: summary.bestCheckpoint)
    let test = TrainingData.prepare(try DatasetSource.digits.load().test, checkpoint.normalization)
    let result = checkpoint.network.evaluate(test)

    print("params=\(checkpoint.network.parameterCount)")
    print("best_epoch=\(summary.bestEpoch)")
    print("test_accuracy=\(result.accuracy)")
    print("checkpoint=\(summary.bestCheckpoint)")
} catch {
    // Libraries throw errors that name the file and the problem; report and fail.
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}

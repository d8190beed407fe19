import Foundation
import SafeTensors
import SECNNModel

/// A growth run's ladder with every rung trained further at its own size:
/// what each size can do, beside what the run left it at. A rung is often a
/// checkpoint of a size trained for one cool-down; `secnn ladder RUN
/// --finetune N` continues each for N epochs with the run's recipe (its
/// optimizer state, schedule and random streams carried on) and keeps the
/// best epoch. Kept as `RUN/ladder-finetuned/` and described by
/// `RUN/ladder-finetuned.json`.
///
/// Under the cosine schedule the rate is a function of the place in the
/// run, so extending a rung's run past its end rate restarts the decay
/// from where epoch/epochs puts it; under the paper's plateau schedule the
/// rung simply goes on.
public struct FinetunedLadder: Codable, Equatable, Sendable {
    public struct Rung: Codable, Equatable, Sendable {
        /// The rung of `ladder.json` (from 1).
        public var rung: Int
        public var parameters: Int
        public var flops: Int
        public var architecture: String
        /// Epochs trained beyond the rung's checkpoint.
        public var epochs: Int
        /// The rung's validation accuracy as the run left it, and after fine-tuning.
        public var validationAccuracyBefore: Double
        public var validationAccuracy: Double
        /// The fine-tuned best checkpoint's test accuracy.
        public var testAccuracy: Double
        /// The fine-tuned best checkpoint, relative to the run directory.
        public var file: String
    }

    public private(set) var rungs: [Rung] = []

    public static let fileName = "ladder-finetuned.json"
    public static let folder = "ladder-finetuned"

    /// Fine-tunes every rung of `ladder` for `epochs` epochs on `data` (the
    /// run's, as `settings` describe it), each in `RUN/ladder-finetuned/rung-K/`
    /// (a training directory of its own, with its config.json and metrics),
    /// and writes `ladder-finetuned.json` after each rung.
    public static func finetune(_ ladder: Ladder, run directory: String, settings: RunFiles.Configuration,
                                epochs: Int, data: TrainingData, observer: GrowthObserver? = nil) throws
        -> FinetunedLadder {
        guard epochs >= 1 else {
            throw ModelError.invalidConfiguration("--finetune needs at least 1 epoch, not \(epochs)")
        }
        var result = FinetunedLadder()
        for (index, rung) in ladder.rungs.enumerated() {
            var checkpoint = try Checkpoint(contentsOf: (directory as NSString).appendingPathComponent(rung.file))
            guard var configuration = checkpoint.configuration, var state = checkpoint.training else {
                throw ModelError.invalidConfiguration("\(rung.file): the rung holds no training state to continue from")
            }
            configuration.epochs = state.epoch + epochs
            // The rung's own best is the one to beat, not the run's (another size's) at that epoch.
            state.bestValidationAccuracy = rung.validationAccuracy
            state.bestEpoch = rung.epoch
            checkpoint.configuration = configuration
            checkpoint.training = state
            let relative = "\(folder)/rung-\(index + 1)"
            let trainer = try Trainer(resuming: checkpoint, data: data,
                                      directory: (directory as NSString).appendingPathComponent(relative))
            // The rung itself is the best so far: the trainer writes a new best only when validation improves.
            try checkpoint.write(toPath: trainer.bestCheckpointPath)
            var rungSettings = settings
            rungSettings.architecture = rung.architecture
            rungSettings.training = configuration
            (rungSettings.rule, rungSettings.ruleChecksum, rungSettings.ruleArgs) = (nil, nil, [:])
            let files = RunFiles(directory: trainer.directory, configuration: rungSettings, ruleSource: nil,
                                 forwardingTo: observer)
            let summary = try trainer.run(observer: files)
            result.rungs.append(Rung(
                rung: index + 1, parameters: rung.parameters, flops: rung.flops, architecture: rung.architecture,
                epochs: epochs, validationAccuracyBefore: rung.validationAccuracy,
                validationAccuracy: summary.bestValidationAccuracy, testAccuracy: summary.test.accuracy,
                file: "\(relative)/best.safetensors"))
            try AtomicWrite.write(Array(try RunFiles.prettyEncoder().encode(result)),
                                  toPath: (directory as NSString).appendingPathComponent(fileName))
        }
        return result
    }
}

// Example: inference with a model from a growth run's ladder, through the
// library API. Picks the most accurate rung within a parameter budget (as
// `secnn export --max-params` does), normalises the digits test images with
// the checkpoint's own normalisation, and classifies them.
//
//   swift run -c release infer RUN [MAX_PARAMS]
import Foundation
import SECNNCore
import SECNNData
import SECNNModel
import SECNNGrowth

let arguments = Array(CommandLine.arguments.dropFirst())
guard let run = arguments.first else {
    FileHandle.standardError.write(Data("usage: infer RUN [MAX_PARAMS]\n".utf8))
    exit(64)
}
let budget = arguments.dropFirst().first.flatMap { Int($0) } ?? .max
do {
    let ladder = try Ladder(run: run)
    guard let rung = ladder.best(maxParameters: budget) else {
        FileHandle.standardError.write(Data("infer: no rung of \(run) has at most \(budget) parameters\n".utf8))
        exit(1)
    }
    let checkpoint = try Checkpoint(contentsOf: (run as NSString).appendingPathComponent(rung.file))
    let test = TrainingData.prepare(try DatasetSource.digits.load().test, checkpoint.normalization)

    // Eval mode (batch norm on running statistics, no dropout), every layer prepared once
    // and its buffers allocated for 256 images at a time.
    let model = InferenceModel(checkpoint.network, capacity: 256)
    let classes = checkpoint.network.spec.classes
    var correct = 0
    var predictions: [Int] = []
    for start in stride(from: 0, to: test.count, by: 256) {
        let (images, labels) = test.batch(Array(start..<min(start + 256, test.count))[...])
        let logits = model.logits(images.scalars)
        for (n, label) in labels.enumerated() {
            let row = logits[(n * classes)..<((n + 1) * classes)]
            let predicted = row.indices.max { row[$0] < row[$1] }! - n * classes
            predictions.append(predicted)
            if predicted == Int(label) { correct += 1 }
        }
    }
    print("rung \(rung.architecture) (\(rung.parameters) parameters, epoch \(rung.epoch))")
    print("first predictions: \(predictions.prefix(12).map(String.init).joined(separator: " "))")
    print("labels:            \(test.labels.prefix(12).map { String($0) }.joined(separator: " "))")
    print("accuracy \(Double(correct) / Double(test.count)) on \(test.count) test images (the ladder lists \(rung.testAccuracy))")
} catch {
    FileHandle.standardError.write(Data("infer: \(error)\n".utf8))
    exit(1)
}

// Example: a self-expanding training run through the library API, without
// the command-line tool. Trains the start model on the embedded digits set
// with a growth rule and prints every expansion and the ladder it leaves.
//
//   swift run -c release grow-digits [RULE] [OUT]
//   (RULE: a Lua file or a stock rule name, default paper.lua; OUT: default runs/grow-digits)
import Foundation
import SECNNData
import SECNNModel
import SECNNGrowth
import SECNNRules

/// Prints what the run does: one line per epoch and per expansion.
final class Log: GrowthObserver {
    func trainingStep(epoch: Int, step: Int, steps: Int, imagesPerSecond: Double) {}

    func epochFinished(_ metrics: EpochMetrics, totalEpochs: Int, elapsed: Double, isBest: Bool) {
        print(String(format: "epoch %2d/%d  val_acc=%.4f  params=%d", metrics.epoch, totalEpochs,
                     metrics.validationAccuracy, metrics.parameters))
    }

    func expanded(_ record: ExpansionRecord) {
        print("  grew: \(record.candidate) → \(record.architecture) (\(record.parametersAfter) parameters)")
    }

    func ruleFailed(epoch: Int, error: Error, consecutiveFailures: Int) { print("  rule failed: \(error)") }

    func round(_ round: GrowthRound) {}
}

let arguments = CommandLine.arguments.dropFirst()
let ruleName = arguments.first ?? "paper.lua"
let directory = arguments.dropFirst().first ?? "runs/grow-digits"
do {
    var configuration = TrainingConfiguration()
    configuration.epochs = 30
    let data = TrainingData(try DatasetSource.digits.load(), validation: configuration.validation, seed: configuration.seed)
    let trainer = try Trainer(data: data, spec: try data.architecture("16x1,16x1,16x1"), configuration: configuration,
                              directory: directory)
    let (source, path) = try RuleSource.resolve(ruleName)
    // The rule's ctx.args, as `--rule-arg` would give them: paper.lua's τ, lowered so digits grows.
    let rule = try Rule(source: source, displayPath: path, args: ["tau": "1.1"])
    let run = try SelfExpandingRun(trainer: trainer, rule: rule)
    let summary = try run.run(observer: Log())
    print("test accuracy \(summary.test.accuracy) with \(summary.parameters) parameters; ladder:")
    for rung in run.ladder.rungs {
        print(String(format: "  %6d parameters  %@  val_acc=%.4f  test_acc=%.4f", rung.parameters, rung.architecture,
                     rung.validationAccuracy, rung.testAccuracy))
    }
} catch {
    FileHandle.standardError.write(Data("grow-digits: \(error)\n".utf8))
    exit(1)
}

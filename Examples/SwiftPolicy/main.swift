// Example: a growth policy written in Swift instead of Lua. It conforms to
// `GrowthPolicy` and drives the same self-expanding run as `--rule`.
//
// Policy: widen, never deepen; propose every block while the model is under
// a parameter budget, and take the best candidate whose score beats the
// current model's by 2%.
//
//   swift run -c release swift-policy [OUT]   (default runs/swift-policy)
import Foundation
import SECNNData
import SECNNModel
import SECNNGrowth

final class WidenUnderBudget: GrowthPolicy {
    let name = "widen-under-budget"
    let budget: Int
    init(budget: Int) { self.budget = budget }

    func propose(_ context: RuleContext) throws -> [Candidate] {
        guard context.architecture.parameterCount < budget else { return [] }
        return context.architecture.blocks.indices.map { Candidate(block: $0, op: .widen, channels: 4) }
    }

    func decide(_ context: RuleContext) throws -> Candidate? {
        guard let scores = context.scores else { return nil }
        let affordable = scores.candidates.filter { $0.score.parameters <= budget && $0.score.eta > 1.02 * scores.current.eta }
        return affordable.max { $0.score.eta < $1.score.eta }?.candidate
    }
}

/// Prints each expansion; the epochs stay quiet.
final class Log: GrowthObserver {
    func trainingStep(epoch: Int, step: Int, steps: Int, imagesPerSecond: Double) {}
    func epochFinished(_ metrics: EpochMetrics, totalEpochs: Int, elapsed: Double, isBest: Bool) {}
    func round(_ round: GrowthRound) {}
    func expanded(_ record: ExpansionRecord) {
        print("epoch \(record.epoch): \(record.candidate) → \(record.architecture) (\(record.parametersAfter) parameters)")
    }
    func ruleFailed(epoch: Int, error: Error, consecutiveFailures: Int) { print("policy failed: \(error)") }
}

let directory = CommandLine.arguments.dropFirst().first ?? "runs/swift-policy"
do {
    var configuration = TrainingConfiguration()
    configuration.epochs = 20
    let data = TrainingData(try DatasetSource.digits.load(), validation: configuration.validation, seed: configuration.seed)
    let trainer = try Trainer(data: data, spec: try data.architecture("16x1,16x1,16x1"), configuration: configuration,
                              directory: directory)
    let policy = WidenUnderBudget(budget: 8_000)
    let run = try SelfExpandingRun(trainer: trainer, rule: policy)
    let summary = try run.run(observer: Log())
    print("final: \(run.trainer.network.spec) with \(summary.parameters) parameters (budget \(policy.budget)), "
          + "test accuracy \(summary.test.accuracy), \(run.history.count) expansions, \(run.ladder.rungs.count) rungs")
} catch {
    FileHandle.standardError.write(Data("swift-policy: \(error)\n".utf8))
    exit(1)
}

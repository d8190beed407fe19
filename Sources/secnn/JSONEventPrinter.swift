import Foundation
import SECNNGrowth
import SECNNModel

/// `secnn train --json`: one JSON object a line on stdout for every epoch,
/// growth round, expansion and rule error, for scripts that follow a run.
final class JSONEventPrinter: GrowthObserver {
    private let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    private struct Event<Body: Encodable>: Encodable {
        var event: String
        var body: Body

        func encode(to encoder: Encoder) throws {
            try body.encode(to: encoder)
            var container = encoder.container(keyedBy: Key.self)
            try container.encode(event, forKey: .event)
        }

        private enum Key: String, CodingKey { case event }
    }

    private func emit<Body: Encodable>(_ event: String, _ body: Body) {
        guard let data = try? encoder.encode(Event(event: event, body: body)) else { return }
        print(String(decoding: data, as: UTF8.self))
        fflush(stdout)
    }

    func trainingStep(epoch: Int, step: Int, steps: Int, imagesPerSecond: Double) {}

    func epochFinished(_ metrics: EpochMetrics, totalEpochs: Int, elapsed: Double, isBest: Bool) {
        struct Epoch: Encodable {
            var epoch: Int, epochs: Int, trainLoss: Double, trainAccuracy: Double, valLoss: Double, valAccuracy: Double
            var lr: Double, params: Int, seconds: Double, imagesPerS: Double, best: Bool
        }
        emit("epoch", Epoch(epoch: metrics.epoch, epochs: totalEpochs, trainLoss: metrics.trainLoss,
                            trainAccuracy: metrics.trainAccuracy, valLoss: metrics.validationLoss,
                            valAccuracy: metrics.validationAccuracy, lr: metrics.learningRate,
                            params: metrics.parameters, seconds: metrics.seconds,
                            imagesPerS: metrics.imagesPerSecond, best: isBest))
    }

    func round(_ round: GrowthRound) { emit("round", round) }

    func expanded(_ record: ExpansionRecord) { emit("expansion", record) }

    func ruleFailed(epoch: Int, error: Error, consecutiveFailures: Int) {
        struct Failure: Encodable { var epoch: Int, error: String, consecutiveFailures: Int }
        emit("rule_error", Failure(epoch: epoch, error: "\(error)", consecutiveFailures: consecutiveFailures))
    }
}

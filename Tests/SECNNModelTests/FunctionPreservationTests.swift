import Foundation
import SECNNCore
import SECNNData
import SECNNModel
import XCTest

/// The acceptance figures on a trained model: widening must not
/// change what the network computes, adding a layer only a little.
///
/// Prints one line per case (`FIGURE …`) for BENCHMARKS.md, including the
/// reference implementation's layer initialisation (δ_oc in all nine taps)
/// for comparison.
final class FunctionPreservationTests: XCTestCase {
    /// The digits model every case grows, trained once per test process.
    private struct Trained {
        var network: SECNNNetwork<Float>
        var testImages: Tensor<Float>
        var testLabels: [Int32]
        var calibration: Tensor<Float>
    }

    private static let trained: Result<Trained, Error> = Result {
        var configuration = TrainingConfiguration()
        configuration.epochs = 40
        configuration.seed = 1
        let data = TrainingData(try DatasetSource.digits.load(), validation: configuration.validation, seed: configuration.seed)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("secnn-preservation-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let trainer = try Trainer(data: data, spec: try data.architecture("16x1,16x1,16x1"), configuration: configuration,
                                  directory: directory.path)
        for _ in 0..<configuration.epochs { _ = try trainer.trainEpoch() }
        let (testImages, testLabels) = data.test.batch(Array(0..<data.test.count)[...])
        return Trained(network: trainer.network, testImages: testImages, testLabels: testLabels,
                       calibration: data.train.batch(Array(0..<data.train.count)[...]).0)
    }

    /// How a grown network's test predictions differ from the trained one's.
    private struct Change {
        var maxLogitChange: Double
        /// In percentage points.
        var accuracyChange: Double
    }

    private func change(_ grown: SECNNNetwork<Float>, _ model: Trained) -> Change {
        let before = evalLogits(model.network, model.testImages), after = evalLogits(grown, model.testImages)
        let maxLogitChange = zip(before.scalars, after.scalars).map { Double(abs($0 - $1)) }.max()!
        let points = 100 * (accuracy(after, model.testLabels) - accuracy(before, model.testLabels))
        return Change(maxLogitChange: maxLogitChange, accuracyChange: points)
    }

    private func report(_ what: String, _ change: Change) {
        print(String(format: "FIGURE %@: max|Δlogit|=%.3e Δaccuracy=%+.2f points", what, change.maxLogitChange,
                     change.accuracyChange))
    }

    func testTrainedModelReaches95Percent() throws {
        let model = try Self.trained.get()
        let accuracy = accuracy(evalLogits(model.network, model.testImages), model.testLabels)
        print(String(format: "FIGURE trained digits 16x1,16x1,16x1, 40 epochs: test accuracy %.2f%% (%d images)",
                     100 * accuracy, model.testLabels.count))
        XCTAssertGreaterThanOrEqual(accuracy, 0.95)
    }

    func testWideningAnyBlockKeepsTheFunction() throws {
        let model = try Self.trained.get()
        var generator = SeededGenerator(seed: 21)
        for block in 0..<3 {
            for count in [2, 4] {
                let grown = try model.network.widening(block: block, by: count, generator: &generator).network
                let change = change(grown, model)
                report("widen block \(block) by \(count) (noise 1e-4)", change)
                // The change is second order in the noise (1e-8 per path; measured ≤ 4.1e-6 over the test set).
                XCTAssertLessThanOrEqual(change.maxLogitChange, 5e-5, "widen block \(block) by \(count)")
                XCTAssertEqual(change.accuracyChange, 0, "widen block \(block) by \(count)")
            }
        }
    }

    /// The centre-tap identity is asserted; the reference's all-taps
    /// identity (a 3×3 box sum of each channel, the zero padding included)
    /// is only measured.
    func testAddingALayerToAnyBlockKeepsTheAccuracy() throws {
        let model = try Self.trained.get()
        var generator = SeededGenerator(seed: 22)
        for block in 0..<3 {
            let (grown, expansion) = try model.network.addingLayer(toBlock: block, calibration: model.calibration,
                                                                   generator: &generator)
            let centre = change(grown, model)
            report("layer on block \(block), centre-tap identity (noise 1e-4)", centre)
            XCTAssertLessThanOrEqual(abs(centre.accuracyChange), 0.5, "layer on block \(block)")

            var allTaps = grown
            let channels = grown.spec.blocks[block].channels
            allTaps.update(expansion.addedPaths[0]) { weight in
                for index in weight.indices { weight[index] = index / 9 / channels == index / 9 % channels ? 1 : 0 }
            }
            report("layer on block \(block), all-taps identity (reference)", change(allTaps, model))
        }
    }
}

import Foundation
import SECNNCore
import SECNNData
import SECNNModel
import XCTest
import _SECNNTestSupport

/// Adam's state through an expansion: every parameter keeps its moments
/// (at its entries' new positions) and step count, new entries start at 0,
/// and training goes on without a jump in the loss.
final class OptimizerMigrationTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("secnn-migration-\(UUID().uuidString)")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    /// Moments from a few steps with random gradients (none of them 0),
    /// migrated through both expansions of every block.
    func testMomentsFollowTheirParameters() throws {
        let spec = try ArchitectureSpec(parsing: "4x2,6x1,5x2", inputChannels: 2, inputHeight: 8, inputWidth: 8, classes: 3)
        var generator = SeededGenerator(seed: 31)
        var network = try randomNetwork(spec, &generator)
        var adam = Adam<Float>()
        for step in 0..<3 {
            // The last block's second conv is stepped once less: step counts differ per path.
            for path in network.parameterPaths where step < 2 || path != "\(ParameterPath.conv(2, 1)).weight" {
                let gradient: Tensor<Float> = randomTensor(network.state.tensor(path).shape, &generator)
                network.update(path) { adam.step(path, parameter: &$0, gradient: gradient.scalars) }
            }
        }
        let calibration: Tensor<Float> = randomTensor([4, 2, 8, 8], &generator)
        for block in 0..<3 {
            for widen in [true, false] {
                let (grown, expansion) = widen
                    ? try network.widening(block: block, by: 2, generator: &generator)
                    : try network.addingLayer(toBlock: block, calibration: calibration, generator: &generator)
                var migrated = adam
                migrated.migrate(expansion.growth)
                let what = "\(expansion)"
                XCTAssertEqual(Set(migrated.slots.keys), Set(adam.slots.keys), "\(what): new paths have no slot")
                for (path, slot) in adam.slots {
                    let moved = try XCTUnwrap(migrated.slots[path])
                    XCTAssertEqual(moved.step, slot.step, "\(what): \(path) step")
                    guard expansion.growth[path] != nil else {
                        XCTAssertEqual(moved, slot, "\(what): \(path) unchanged")
                        continue
                    }
                    // Growth keeps old entries in row-major order, so the nonzero moments,
                    // read in order, are the old ones, and the parameter's old values sit at
                    // the same positions in the grown network.
                    let kept = moved.firstMoment.indices.filter { moved.firstMoment[$0] != 0 }
                    XCTAssertEqual(moved.firstMoment.count, grown.state.tensor(path).count, "\(what): \(path)")
                    XCTAssertEqual(kept.map { moved.firstMoment[$0].bitPattern }, slot.firstMoment.map(\.bitPattern), "\(what): \(path) m")
                    XCTAssertEqual(kept.map { moved.secondMoment[$0].bitPattern }, slot.secondMoment.map(\.bitPattern), "\(what): \(path) v")
                    XCTAssertEqual(kept.map { grown.state.tensor(path).scalars[$0].bitPattern },
                                   network.state.tensor(path).scalars.map(\.bitPattern), "\(what): \(path) values")
                    let fresh = Set(moved.secondMoment.indices).subtracting(kept)
                    XCTAssertEqual(fresh.count, moved.secondMoment.count - slot.secondMoment.count, "\(what): \(path)")
                    XCTAssertTrue(fresh.allSatisfy { moved.secondMoment[$0] == 0 }, "\(what): \(path) new v entries are 0")
                }
            }
        }
    }

    /// A trainer after `epochs` epochs of digits (the same for the same arguments).
    private func trainer(epochs: Int, name: String) throws -> Trainer {
        var configuration = TrainingConfiguration()
        configuration.seed = 3
        let data = TrainingData(try DatasetSource.digits.load(), validation: configuration.validation, seed: configuration.seed)
        let trainer = try Trainer(data: data, spec: try data.architecture("16x1,16x1,16x1"), configuration: configuration,
                                  directory: directory.appendingPathComponent(name).path)
        for _ in 0..<epochs { _ = try trainer.trainEpoch() }
        return trainer
    }

    /// The epoch after an expansion has no loss spike: its train loss is at
    /// most 5% above the epoch before, and within 5% of the same epoch
    /// without the expansion. Restarting Adam instead is measured and
    /// printed (`FIGURE …`), not asserted.
    func testTrainingContinuesWithoutALossSpike() throws {
        let epochs = 25
        let control = try trainer(epochs: epochs, name: "control")
        let previous = control.state.history.last!.trainLoss
        let next = try control.trainEpoch().trainLoss
        print(String(format: "FIGURE digits, no expansion: train loss epoch %d %.4f → epoch %d %.4f (%+.1f%%)",
                     epochs, previous, epochs + 1, next, 100 * (next / previous - 1)))

        for operation in [Expansion.Operation.widen, .layer] {
            var losses: [Bool: Double] = [:]
            for restart in [false, true] {
                let trainer = try trainer(epochs: epochs, name: "\(operation)-\(restart)")
                XCTAssertEqual(trainer.state.history.last!.trainLoss, previous, "training is deterministic")
                var generator = SeededGenerator(seed: 41)
                let (images, _) = trainer.data.train.batch(Array(0..<trainer.data.train.count)[...])
                let (grown, expansion) = operation == .widen
                    ? try trainer.network.widening(block: 0, by: 4, generator: &generator)
                    : try trainer.network.addingLayer(toBlock: 0, calibration: images, generator: &generator)
                let steps = trainer.optimizer.slots["\(ParameterPath.mix).weight"]?.step
                try trainer.apply(grown, expansion, restartingOptimizer: restart)
                XCTAssertEqual(trainer.network, grown)
                XCTAssertEqual(trainer.optimizer.slots["\(ParameterPath.mix).weight"]?.step, restart ? nil : steps)
                let loss = try trainer.trainEpoch().trainLoss
                losses[restart] = loss
                print(String(format: "FIGURE digits, %@ then %@ Adam: train loss epoch %d %.4f → epoch %d %.4f (%+.1f%%)",
                             "\(expansion)", restart ? "restarted" : "migrated", epochs, previous, epochs + 1, loss,
                             100 * (loss / previous - 1)))
            }
            let migrated = try XCTUnwrap(losses[false])
            XCTAssertLessThanOrEqual(migrated, 1.05 * previous, "\(operation): loss after the expansion, migrated Adam")
            XCTAssertEqual(migrated, next, accuracy: 0.05 * next, "\(operation): loss against the epoch without expansion")
        }
    }

    func testTrainerRefusesAnExpansionOfAnotherArchitecture() throws {
        let trainer = try trainer(epochs: 0, name: "refuse")
        var generator = SeededGenerator(seed: 51)
        let once = try trainer.network.widening(block: 0, by: 2, generator: &generator)
        let twice = try once.network.widening(block: 0, by: 2, generator: &generator)
        XCTAssertThrowsError(try trainer.apply(twice.network, twice.expansion)) { error in
            XCTAssertTrue("\(error)".contains("but the trainer's network is 16x1,16x1,16x1"), "\(error)")
        }
        XCTAssertThrowsError(try trainer.apply(twice.network, once.expansion))
        XCTAssertEqual(trainer.network.spec.description, "16x1,16x1,16x1", "a refused expansion changes nothing")
    }
}

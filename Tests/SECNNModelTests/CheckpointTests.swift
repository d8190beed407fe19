import Foundation
import SECNNCore
import SECNNData
import SECNNModel
import SafeTensors
import XCTest

/// Checkpoints: what is written is what is read, bit for bit, and every kind
/// of broken file is rejected with a message naming the file and the problem.
final class CheckpointTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("secnn-checkpoint-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    /// A trainer after one epoch on digits (three Adam steps at batch 512).
    private func trainedTrainer() throws -> Trainer {
        var configuration = TrainingConfiguration()
        configuration.epochs = 1
        configuration.seed = 11
        let data = TrainingData(try DatasetSource.digits.load(), validation: configuration.validation,
                                seed: configuration.seed)
        let trainer = try Trainer(data: data, spec: try data.architecture("16x1,16x1,16x1"),
                                  configuration: configuration, directory: directory.appendingPathComponent("run").path)
        _ = try trainer.run()
        return trainer
    }

    private func bits(_ values: [Float]) -> [UInt32] { values.map(\.bitPattern) }

    func testRoundTripKeepsEveryBit() throws {
        let trainer = try trainedTrainer()
        let written = trainer.checkpoint()
        XCTAssertEqual(written.training?.epoch, 1)
        XCTAssertFalse(try XCTUnwrap(written.optimizer).slots.isEmpty, "the optimizer has state after training")
        let path = directory.appendingPathComponent("round-trip.safetensors").path
        try written.write(toPath: path)
        let read = try Checkpoint(contentsOf: path)

        // Network: the same architecture, the same tensors in the same order, bit for bit.
        XCTAssertEqual(read.network.spec, written.network.spec)
        // Training updates tensors in place: the state stays in state-dict order, and so does the file.
        XCTAssertEqual(written.network.state.paths, written.network.spec.stateLayout.map(\.path))
        XCTAssertEqual(read.network.state.paths, written.network.state.paths)
        for (path, tensor) in written.network.state.entries {
            let back = try XCTUnwrap(read.network.state[path], path)
            XCTAssertEqual(back.shape, tensor.shape, path)
            XCTAssertEqual(bits(back.scalars), bits(tensor.scalars), path)
        }
        // Running statistics moved during training, so they are really stored.
        XCTAssertNotEqual(read.network.state["blocks.0.layers.0.bn.running_mean"]?.scalars, [Float](repeating: 0, count: 16))

        XCTAssertEqual(bits(read.normalization.mean), bits(written.normalization.mean))
        XCTAssertEqual(bits(read.normalization.std), bits(written.normalization.std))
        XCTAssertEqual(read.dataset, "digits")
        XCTAssertEqual(read.configuration, written.configuration)

        // Training state: epoch, rate schedule, the three random streams and the
        // history. Wall-clock timings are not stored (the same seed gives the same file), nor the
        // multiply-adds (the architecture gives them).
        var expectedState = try XCTUnwrap(written.training)
        for index in expectedState.history.indices {
            XCTAssertGreaterThan(expectedState.history[index].multiplyAdds, 0)
            expectedState.history[index].multiplyAdds = 0
            expectedState.history[index].seconds = 0
            expectedState.history[index].imagesPerSecond = 0
        }
        XCTAssertEqual(read.training, expectedState)
        XCTAssertEqual(read.training?.shuffleGenerator, written.training?.shuffleGenerator)
        XCTAssertEqual(read.training?.dropoutGenerator, written.training?.dropoutGenerator)

        // Adam: hyperparameters and every slot's moments and step count.
        let adam = try XCTUnwrap(written.optimizer), readAdam = try XCTUnwrap(read.optimizer)
        XCTAssertEqual(readAdam.learningRate.bitPattern, adam.learningRate.bitPattern)
        XCTAssertEqual([readAdam.beta1, readAdam.beta2, readAdam.epsilon], [adam.beta1, adam.beta2, adam.epsilon])
        XCTAssertEqual(Set(readAdam.slots.keys), Set(adam.slots.keys))
        XCTAssertEqual(Set(adam.slots.keys), Set(written.network.parameterPaths))
        for (path, slot) in adam.slots {
            let back = try XCTUnwrap(readAdam.slots[path], path)
            XCTAssertEqual(back.step, slot.step, path)
            XCTAssertEqual(bits(back.firstMoment), bits(slot.firstMoment), path)
            XCTAssertEqual(bits(back.secondMoment), bits(slot.secondMoment), path)
        }

        // And writing what was read gives the same bytes.
        let again = directory.appendingPathComponent("again.safetensors").path
        try read.write(toPath: again)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: again)), try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    func testBestCheckpointOfARunIsWhatTheTrainerReports() throws {
        let trainer = try trainedTrainer()
        let best = try Checkpoint(contentsOf: trainer.bestCheckpointPath)
        let last = try Checkpoint(contentsOf: trainer.lastCheckpointPath)
        XCTAssertEqual(best.training?.bestEpoch, 1)
        // After one epoch, last is the trainer's network.
        XCTAssertEqual(last.network.spec, trainer.network.spec)
        for (path, tensor) in trainer.network.state.entries {
            XCTAssertEqual(last.network.state[path]?.scalars.map(\.bitPattern), tensor.scalars.map(\.bitPattern), path)
        }
        XCTAssertEqual(last.training, best.training)
        XCTAssertEqual(try SafeTensorsFile(contentsOf: trainer.lastCheckpointPath).tensors.map(\.name),
                       trainer.network.spec.stateLayout.map(\.path), "tensors in state-dict order")
    }

    // MARK: - Broken files

    /// A small valid checkpoint with optimizer state, as a SafeTensorsFile to break.
    private func validFile() throws -> SafeTensorsFile {
        var generator = SeededGenerator(seed: 5)
        let network = SECNNNetwork<Float>(spec: try ArchitectureSpec(parsing: "8x1,8x1", inputChannels: 1, inputHeight: 8,
                                                                      inputWidth: 8),
                                          generator: &generator)
        var adam = Adam<Float>(learningRate: 1e-3)
        for path in network.parameterPaths {
            var values = network.state.tensor(path).scalars
            adam.step(path, parameter: &values, gradient: values.map { $0 * 0.5 })
        }
        let path = directory.appendingPathComponent("valid.safetensors").path
        try Checkpoint(network: network, normalization: Normalization(mean: [0.5], std: [0.25]), dataset: "digits",
                       configuration: TrainingConfiguration(), training: TrainingState(learningRate: 1e-3, seed: 5),
                       optimizer: adam).write(toPath: path)
        XCTAssertNoThrow(try Checkpoint(contentsOf: path))
        return try SafeTensorsFile(contentsOf: path)
    }

    /// Writes `file` and asserts that reading it as a checkpoint fails with a
    /// message naming the file and containing every fragment.
    private func assertRejected(_ file: SafeTensorsFile, _ fragments: [String], file source: StaticString = #filePath,
                                line: UInt = #line) throws {
        let path = directory.appendingPathComponent("broken-\(UUID().uuidString).safetensors").path
        try file.write(toPath: path)
        XCTAssertThrowsError(try Checkpoint(contentsOf: path), file: source, line: line) { error in
            let message = "\(error)"
            XCTAssertTrue(message.hasPrefix(path + ": "), "the message names the file: \(message)", file: source, line: line)
            for fragment in fragments {
                XCTAssertTrue(message.contains(fragment), "\"\(fragment)\" not in: \(message)", file: source, line: line)
            }
        }
    }

    func testMissingTensorNamesThePathAndTheExpectedShape() throws {
        var file = try validFile()
        file.tensors.removeAll { $0.name == "head.fc2.weight" }
        try assertRejected(file, ["tensor head.fc2.weight", "expected shape [10, 20] for architecture 8x1,8x1", "found nothing"])
    }

    func testExtraTensorIsRejected() throws {
        var file = try validFile()
        file.tensors.append(SafeTensor(name: "blocks.2.layers.0.conv.weight", shape: [2], floats: [1, 2]))
        try assertRejected(file, ["tensor blocks.2.layers.0.conv.weight", "no such tensor in architecture 8x1,8x1",
                                  "found shape [2]"])
    }

    func testMisshapedTensorIsRejected() throws {
        var file = try validFile()
        let index = try XCTUnwrap(file.tensors.firstIndex { $0.name == "head.fc2.weight" })
        file.tensors[index].shape = [20, 10]  // the same bytes, transposed shape
        try assertRejected(file, ["tensor head.fc2.weight", "expected shape [10, 20]", "found shape [20, 10]"])
    }

    func testWrongDTypeIsRejected() throws {
        var file = try validFile()
        let index = try XCTUnwrap(file.tensors.firstIndex { $0.name == "head.fc2.bias" })
        file.tensors[index] = SafeTensor(name: "head.fc2.bias", shape: [10], int64s: Array(0..<10))
        try assertRejected(file, ["tensor head.fc2.bias", "expected dtype F32", "found dtype I64"])
    }

    func testFileWithoutFormatIsNotACheckpoint() throws {
        var file = try validFile()
        file.metadata["format"] = nil
        try assertRejected(file, ["not a secnn checkpoint", "'format' is missing"])
        // A plain weights file (no metadata at all), as torch_peer.py --export-reference writes.
        try assertRejected(SafeTensorsFile(tensors: file.tensors), ["not a secnn checkpoint"])
        file.metadata["format"] = "secnn-checkpoint-0"
        try assertRejected(file, ["not a secnn checkpoint", "'secnn-checkpoint-0'"])
    }

    func testMissingArchitectureIsRejected() throws {
        var file = try validFile()
        file.metadata["architecture"] = nil
        try assertRejected(file, ["metadata lacks 'architecture'"])
        file = try validFile()
        file.metadata["normalization"] = "{\"mean\": [0]"
        try assertRejected(file, ["metadata 'normalization' is not valid"])
    }

    /// The optimizer record as JSON, changed by `edit`, put back.
    private func editingOptimizer(_ file: SafeTensorsFile, _ edit: (inout [String: Any]) -> Void) throws -> SafeTensorsFile {
        var file = file
        var record = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try XCTUnwrap(file.metadata["optimizer"]).utf8))
                                   as? [String: Any])
        var slots = try XCTUnwrap(record["slots"] as? [String: Any])
        edit(&slots)
        record["slots"] = slots
        file.metadata["optimizer"] = String(decoding: try JSONSerialization.data(withJSONObject: record), as: UTF8.self)
        return file
    }

    func testOptimizerStateForAnUnknownParameterIsRejected() throws {
        let file = try validFile()
        try assertRejected(try editingOptimizer(file) { slots in
            slots["blocks.7.layers.0.conv.weight"] = slots["head.fc2.bias"]
        }, ["optimizer state for unknown parameter blocks.7.layers.0.conv.weight"])
        // A running statistic is state but not a parameter: Adam has no business with it.
        try assertRejected(try editingOptimizer(file) { slots in
            slots["blocks.0.layers.0.bn.running_mean"] = slots["blocks.0.layers.0.bn.bias"]
        }, ["optimizer state for unknown parameter blocks.0.layers.0.bn.running_mean"])
    }

    func testOptimizerMomentsOfTheWrongLengthAreRejected() throws {
        let file = try validFile()
        try assertRejected(try editingOptimizer(file) { slots in
            slots["head.fc2.bias"] = slots["head.fc1.bias"]  // 20 values where 10 belong
        }, ["optimizer state for head.fc2.bias is not 10 base64 float32 values"])
        try assertRejected(try editingOptimizer(file) { slots in
            var slot = slots["head.fc2.bias"] as! [String: Any]
            slot["secondMoment"] = "not base64!"
            slots["head.fc2.bias"] = slot
        }, ["optimizer state for head.fc2.bias is not 10 base64 float32 values"])
    }

    // MARK: - Writing

    func testWriteIntoAMissingDirectoryFailsAndNamesTheFile() throws {
        let file = try validFile()
        let checkpoint = try Checkpoint(contentsOf: directory.appendingPathComponent("valid.safetensors").path)
        XCTAssertFalse(file.tensors.isEmpty)
        let path = directory.appendingPathComponent("missing/best.safetensors").path
        XCTAssertThrowsError(try checkpoint.write(toPath: path)) { error in
            XCTAssertTrue("\(error)".hasPrefix("\(path): not written: "), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.appendingPathComponent("missing").path))
    }

    func testOverwriteIsCompleteAndLeavesNoTemporaryFile() throws {
        _ = try validFile()
        let path = directory.appendingPathComponent("valid.safetensors").path
        var checkpoint = try Checkpoint(contentsOf: path)
        checkpoint.dataset = "overwritten"
        checkpoint.optimizer = nil
        try checkpoint.write(toPath: path)

        let read = try Checkpoint(contentsOf: path)
        XCTAssertEqual(read.dataset, "overwritten")
        XCTAssertNil(read.optimizer)
        XCTAssertEqual(read.network, checkpoint.network)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["valid.safetensors"],
                       "a temporary file was left behind")
    }
}

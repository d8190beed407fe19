import Foundation
import SECNNCore
import SECNNModel
import SafeTensors
import XCTest
import _SECNNTestSupport

/// Checkpoints read by Python: the `safetensors` package, onnxruntime and
/// PyTorch (`Tests/Reference/torch_peer.py eval`). The Python is `$SECNN_PYTHON`
/// (`make test` sets it to `.build/python/bin/python`, a venv with PyPI's
/// safetensors that sees Debian's torch); without it the tests skip.
final class PythonInteropTests: XCTestCase {
    /// `$SECNN_PYTHON` if it can import `modules`, else `unavailable` saying what is missing.
    private func python(importing modules: [String]) throws -> URL {
        guard let path = ProcessInfo.processInfo.environment["SECNN_PYTHON"], !path.isEmpty else {
            throw unavailable("SECNN_PYTHON is not set; it should name a Python with \(modules.joined(separator: " and ")) "
                + "(make test sets it to .build/python/bin/python)")
        }
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw unavailable("SECNN_PYTHON names \(path), which is not an executable file")
        }
        let url = URL(fileURLWithPath: path)
        for module in modules {
            let probe = try CLI.run(executable: url, ["-c", "import \(module)"])
            guard probe.status == 0 else {
                throw unavailable("the Python at \(path) (SECNN_PYTHON) cannot import \(module): "
                    + (probe.stderr.split(separator: "\n").last.map(String.init) ?? "exit status \(probe.status)"))
            }
        }
        return url
    }

    /// `secnn export --format onnx`: onnxruntime runs the file and gives
    /// secnn's eval-mode logits within 1e-4.
    func testONNXExportRunsInOnnxruntimeWithTheSameLogits() throws {
        let python = try python(importing: ["onnxruntime", "safetensors", "numpy"])
        let root = try temporaryDirectory(self)
        let run = root.appendingPathComponent("run")
        // Blocks with several layers, so every node kind and the skip path's extra pool appear.
        let train = try CLI.run("secnn", ["train", "--epochs", "3", "--arch", "8x2,12x1,8x3", "--out", run.path])
        XCTAssertEqual(train.status, 0, train.transcript)
        let onnx = root.appendingPathComponent("model.onnx").path
        let export = try CLI.run("secnn", ["export", run.path, "--format", "onnx", "--out", onnx])
        XCTAssertEqual(export.status, 0, export.transcript)

        var network = try Checkpoint(contentsOf: run.appendingPathComponent("best.safetensors").path).network
        var generator = SeededGenerator(seed: 9)
        let images: Tensor<Float> = randomTensor([6, 1, 8, 8], &generator)
        let graph = Graph<Float>(training: false)
        let logits = graph.value(network.forward(graph, images: images).logits)
        let reference = root.appendingPathComponent("reference.safetensors").path
        try SafeTensorsFile(tensors: [SafeTensor(name: "images", shape: images.shape, floats: images.scalars),
                                      SafeTensor(name: "logits", shape: logits.shape, floats: logits.scalars)],
                            metadata: [:]).write(toPath: reference)
        let script = """
            import sys, numpy as np, onnxruntime as ort
            from safetensors.numpy import load_file
            data = load_file(sys.argv[2])
            session = ort.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])
            logits = session.run(["logits"], {"images": data["images"]})[0]
            print(float(np.abs(logits - data["logits"]).max()), float(np.abs(data["logits"]).max()))
            """
        let result = try CLI.run(executable: python, ["-c", script, onnx, reference])
        XCTAssertEqual(result.status, 0, result.transcript)
        let numbers = try XCTUnwrap(result.stdout.split(separator: "\n").last, result.transcript)
            .split(separator: " ").compactMap { Double($0) }
        XCTAssertEqual(numbers.count, 2, result.transcript)
        XCTAssertLessThanOrEqual(numbers[0], 1e-4 * max(1, numbers[1]), "max |Δlogit| between onnxruntime and secnn")
        XCTAssertGreaterThan(numbers[1], 0.1, "the logits are not trivially zero")
    }

    /// A digits checkpoint read by the `safetensors` package: the same names,
    /// shapes and metadata, and the same values bit for bit.
    func testSafetensorsPackageReadsADigitsCheckpoint() throws {
        let python = try python(importing: ["safetensors", "numpy"])
        let checkpoint = try trainedDigitsCheckpoint(in: try temporaryDirectory(self))
        let swift = try SafeTensorsFile(contentsOf: checkpoint)
        let probe = "blocks.0.layers.0.conv.weight"

        let script = """
            import json, sys
            from safetensors import safe_open
            from safetensors.numpy import load_file
            tensors = load_file(sys.argv[1])
            with safe_open(sys.argv[1], framework="numpy") as f:
                metadata = f.metadata()
            print(json.dumps({
                "metadata": metadata,
                "tensors": {name: {"shape": list(t.shape), "dtype": str(t.dtype)} for name, t in tensors.items()},
                "probe": [float(v) for v in tensors[sys.argv[2]].reshape(-1)],
            }))
            """
        let result = try CLI.run(executable: python, ["-c", script, checkpoint, probe])
        XCTAssertEqual(result.status, 0, result.transcript)
        let line = try XCTUnwrap(result.stdout.split(separator: "\n").last, result.transcript)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        let metadata = try XCTUnwrap(json["metadata"] as? [String: String])
        let tensors = try XCTUnwrap(json["tensors"] as? [String: [String: Any]])

        XCTAssertEqual(metadata, swift.metadata)
        XCTAssertEqual(metadata["format"], Checkpoint.format)
        XCTAssertEqual(metadata["spec"], "16x1,16x1,16x1")
        XCTAssertEqual(Set(tensors.keys), Set(swift.tensors.map(\.name)))
        XCTAssertTrue(tensors.keys.contains("head.fc2.bias"))
        for tensor in swift.tensors {
            let python = try XCTUnwrap(tensors[tensor.name], tensor.name)
            XCTAssertEqual((python["shape"] as? [NSNumber])?.map(\.intValue), tensor.shape, tensor.name)
            XCTAssertEqual(python["dtype"] as? String, "float32", tensor.name)
        }
        // Python's float of a float32 is exact, and so is JSON's shortest round-trip text of it.
        let values = try XCTUnwrap(json["probe"] as? [NSNumber]).map { Float($0.doubleValue) }
        let expected = try XCTUnwrap(swift[probe]).floats()
        XCTAssertEqual(values.count, 16 * 1 * 3 * 3)
        XCTAssertEqual(values.map(\.bitPattern), expected.map(\.bitPattern), "\(probe) differs between Python and Swift")
    }

    /// A CIFAR-shaped checkpoint written by `Checkpoint.write`, with running
    /// statistics moved by training passes, loads in PyTorch unchanged
    /// (`Tests/Reference/torch_peer.py eval`): the same eval-mode logits.
    func testTorchPeerEvaluatesACheckpointWrittenBySwift() throws {
        let python = try python(importing: ["torch", "numpy"])
        let spec = try ArchitectureSpec(parsing: "16x2,16x1,16x1")  // 3x32x32 images, 10 classes
        var generator = SeededGenerator(seed: 9)
        var network = SECNNNetwork<Float>(spec: spec, generator: &generator)
        let images: Tensor<Float> = randomTensor([4, 3, 32, 32], &generator)
        for _ in 0..<3 { _ = network.forward(Graph<Float>(training: true, generator: generator), images: images) }
        let root = try temporaryDirectory(self)
        let file = root.appendingPathComponent("cifar-shaped.safetensors"), input = root.appendingPathComponent("input.safetensors")
        try Checkpoint(network: network, normalization: Normalization(mean: [0, 0, 0], std: [1, 1, 1]), dataset: "cifar10")
            .write(toPath: file.path)
        try SafeTensorsFile(tensors: [SafeTensor(name: "images", shape: images.shape, floats: images.scalars)], metadata: [:])
            .write(toPath: input.path)
        let eval = Graph<Float>(training: false)
        let expected = eval.value(network.forward(eval, images: images).logits).scalars

        let peer = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Reference/torch_peer.py")
        let result = try CLI.run(executable: python, [peer.path, "eval", "--spec", spec.description, "--weights", file.path,
                                                      "--input", input.path])
        XCTAssertEqual(result.status, 0, result.transcript)
        let line = try XCTUnwrap(result.stdout.split(separator: "\n").last, result.transcript)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], result.stdout)
        let logits = try XCTUnwrap(json["logits"] as? [NSNumber], result.stdout).map { Float($0.doubleValue) }
        XCTAssertEqual(logits.count, expected.count)
        let difference = zip(logits, expected).map { abs($0 - $1) }.max() ?? .infinity
        XCTAssertLessThan(difference, 1e-4, "PyTorch's eval logits of the Swift-written checkpoint against secnn's")
    }

    /// `secnn bench --latency` and its peer `Tests/Reference/ort_latency.py` on the ONNX export of the same
    /// checkpoint print the same keys (the timings themselves belong in BENCHMARKS.md, not in a test).
    func testLatencyBenchAndItsOnnxruntimePeer() throws {
        let python = try python(importing: ["onnxruntime", "numpy"])
        let root = try temporaryDirectory(self)
        let run = root.appendingPathComponent("run")
        XCTAssertEqual(try CLI.run("secnn", ["train", "--epochs", "1", "--out", run.path]).status, 0)
        let checkpoint = run.appendingPathComponent("best.safetensors").path
        let bench = try CLI.run("secnn", ["bench", "--latency", checkpoint, "--latency-images", "40", "--threads", "1"])
        XCTAssertEqual(bench.status, 0, bench.transcript)
        let onnx = root.appendingPathComponent("model.onnx").path
        XCTAssertEqual(try CLI.run("secnn", ["export", checkpoint, "--format", "onnx", "--out", onnx]).status, 0)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Reference/ort_latency.py").path
        let peer = try CLI.run(executable: python, [script, onnx, "--images", "40", "--threads", "1"])
        XCTAssertEqual(peer.status, 0, peer.transcript)
        for result in [bench, peer] {
            let (p50, p99) = (Double(result.values["latency_p50_us"] ?? ""), Double(result.values["latency_p99_us"] ?? ""))
            XCTAssertNotNil(p50, result.transcript)
            XCTAssertLessThanOrEqual(p50 ?? .infinity, p99 ?? 0, result.transcript)
            XCTAssertEqual(result.values["latency_images"], "40")
        }
        // Beside the prepared path, the inference graph's times (what predict used before InferenceModel).
        XCTAssertNotNil(Double(bench.values["graph_latency_p50_us"] ?? ""), bench.transcript)
        XCTAssertNotNil(Double(peer.values["run_latency_p50_us"] ?? ""), peer.transcript)
    }
}

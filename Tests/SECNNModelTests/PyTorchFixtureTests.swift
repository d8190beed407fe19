import Foundation
import SECNNCore
import SECNNModel
import SafeTensors
import XCTest
import _SECNNTestSupport

/// secnn against PyTorch: the same weights and images give the same logits,
/// loss, gradients and running statistics. The references come from this
/// package's own script, run at test time with Debian's python3-torch
/// (`Tests/Reference/torch_peer.py reference`: random batch-norm scales and
/// shifts, running statistics from a training pass, a 32-channel block at
/// 32×32), and from the development workspace's independent peer
/// (`../shared/bench/fixtures/`, written by `torch_peer.py --export-reference`).
final class PyTorchFixtureTests: XCTestCase {
    private let tolerance = 1e-4
    /// Some gradients are zero in exact arithmetic — a bias feeding a
    /// train-mode batch norm, and bn1's scale (bn2 renormalises the
    /// positively homogeneous LeakyReLU of bn1's output while bn1's shift is
    /// 0) — and both implementations return float noise (≤ 6e-6) for them.
    /// Tensors under this magnitude are compared absolutely, to 1e-5.
    private let nearZero = 0.1

    func testGenerated32x2_32x1_32x1() throws { try checkGenerated("32x2,32x1,32x1") }
    func testGenerated16x1_16x1_16x1() throws { try checkGenerated("16x1,16x1,16x1") }
    func testGenerated8x1_8x2_12x1_12x3() throws { try checkGenerated("8x1,8x2,12x1,12x3") }

    func testSpec16x1_16x1_16x1() throws { try check("16x1_16x1_16x1") }
    func testSpec16x2_16x1_16x1() throws { try check("16x2_16x1_16x1") }
    func testSpec24x2_32x3_32x2() throws { try check("24x2_32x3_32x2") }
    func testSpec8x1_8x2_12x1_12x3() throws { try check("8x1_8x2_12x1_12x3") }

    private static let referenceScript = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Reference/torch_peer.py")

    /// Writes the reference of `spec` with torch_peer.py and checks against it.
    private func checkGenerated(_ spec: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let python = URL(fileURLWithPath: "/usr/bin/python3")
        guard (try? run(python, ["-c", "import torch"])) == 0 else {
            throw unavailable("/usr/bin/python3 cannot import torch: `apt-get install -y python3-torch` "
                              + "(make test installs it) to check against PyTorch")
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("secnn-torch-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let status = try run(python, [Self.referenceScript.path, "reference", "--spec", spec, "--out", folder.path, "--seed", "5"])
        XCTAssertEqual(status, 0, "torch_peer.py reference failed", file: file, line: line)
        try check(folder: folder, spec: try ArchitectureSpec(parsing: spec), name: spec, file: file, line: line)
    }

    private func run(_ executable: URL, _ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    private func check(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let folder = try requireShared("bench/fixtures/\(name)")
        let spec = try ArchitectureSpec(parsing: name.replacingOccurrences(of: "_", with: ","))
        try check(folder: folder, spec: spec, name: name, file: file, line: line)
    }

    private func check(folder: URL, spec: ArchitectureSpec, name: String, file: StaticString, line: UInt) throws {
        var network = try SECNNNetwork<Float>(spec: spec, weightsFile: folder.appendingPathComponent("weights.safetensors").path)
        let input = try SafeTensorsFile(contentsOf: folder.appendingPathComponent("input.safetensors").path)
        let expected = try SafeTensorsFile(contentsOf: folder.appendingPathComponent("expected.safetensors").path)
        let imagesEntry = try XCTUnwrap(input["images"])
        let images = Tensor<Float>(shape: imagesEntry.shape, scalars: try imagesEntry.floats())
        let labels = try XCTUnwrap(input["labels"]).int64s().map(Int32.init)
        func want(_ key: String) throws -> [Float] { try XCTUnwrap(expected[key], "\(name): no \(key)").floats() }

        let eval = Graph<Float>(training: false)
        let evalLogits = eval.value(network.forward(eval, images: images).logits).scalars
        assertClose(evalLogits, try want("eval_logits"), tolerance: tolerance, "\(name) eval logits", file: file, line: line)
        // An inference graph folds each batch norm into its conv's output pass: the same bits.
        let inference = Graph<Float>.inference()
        XCTAssertEqual(inference.value(network.forward(inference, images: images).logits).scalars, evalLogits,
                       "\(name): inference logits differ from eval mode's", file: file, line: line)

        // The diagonal natural score from functorch's per-example gradients, where the reference has it.
        if let eta = expected["diag_eta"] {
            let subset = LabeledImages(images: images.scalars, labels: labels, channels: spec.inputChannels,
                                       height: spec.inputHeight, width: spec.inputWidth)
            let options = ScoringOptions(fisher: NaturalScoreSettings(method: .diag, epsilon: 1e-8),
                                         subsetSize: subset.count)
            let score = try CandidateScorer(options: options, subset: subset).score(network)
            let reference = Double(try eta.floats()[0])
            XCTAssertEqual(score.eta, reference, accuracy: 1e-4 * reference, "\(name) diagonal η", file: file, line: line)
        }

        // Train mode with dropout off, as the fixture was made.
        let train = Graph<Float>(training: true, dropout: false)
        let logits = network.forward(train, images: images).logits
        let loss = train.crossEntropy(logits, labels: labels)
        train.backward(from: loss)
        assertClose(train.value(logits).scalars, try want("train_logits"), tolerance: tolerance, "\(name) train logits",
                    file: file, line: line)
        assertClose(train.value(loss).scalars, try want("loss"), tolerance: tolerance, "\(name) loss", file: file, line: line)
        let gradients = train.parameterGradients()
        XCTAssertEqual(Set(gradients.keys), Set(expected.tensors.map(\.name).filter { $0.hasPrefix("grad.") }.map { String($0.dropFirst(5)) }))
        for path in network.parameterPaths {
            assertClose(gradients[path]!.scalars, try want("grad.\(path)"), tolerance: tolerance, floor: nearZero,
                        "\(name) grad.\(path)",
                        file: file, line: line)
        }
        // The training pass moved the running statistics (where the reference says where to).
        for entry in expected.tensors where entry.name.hasPrefix("running.") {
            let path = String(entry.name.dropFirst("running.".count))
            assertClose(network.state.tensor(path).scalars, try entry.floats(), tolerance: tolerance,
                        "\(name) \(path) after a training pass", file: file, line: line)
        }
    }
}

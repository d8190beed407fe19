import Foundation
import SECNNCore
import SECNNModel
import SafeTensors
import XCTest
import _SECNNTestSupport

/// secnn against the independent PyTorch implementation
/// (`../shared/bench/fixtures/`, written by `torch_peer.py --export-reference`):
/// the same weights and images give the same logits, loss and gradients.
final class PyTorchFixtureTests: XCTestCase {
    private let tolerance = 1e-4
    /// Some gradients are zero in exact arithmetic — a bias feeding a
    /// train-mode batch norm, and bn1's scale (bn2 renormalises the
    /// positively homogeneous LeakyReLU of bn1's output while bn1's shift is
    /// 0) — and both implementations return float noise (≤ 6e-6) for them.
    /// Tensors under this magnitude are compared absolutely, to 1e-5.
    private let nearZero = 0.1

    func testSpec16x1_16x1_16x1() throws { try check("16x1_16x1_16x1") }
    func testSpec16x2_16x1_16x1() throws { try check("16x2_16x1_16x1") }
    func testSpec24x2_32x3_32x2() throws { try check("24x2_32x3_32x2") }
    func testSpec8x1_8x2_12x1_12x3() throws { try check("8x1_8x2_12x1_12x3") }

    private func check(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let folder = try requireShared("bench/fixtures/\(name)")
        let spec = try ArchitectureSpec(parsing: name.replacingOccurrences(of: "_", with: ","))
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
    }
}

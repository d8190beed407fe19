import SECNNCore
import SECNNModel
import XCTest
import _SECNNTestSupport

/// The prepared inference path against the inference graph it replaces for
/// `secnn predict`: the same logits, whichever conv kernels the shapes take.
final class InferenceModelTests: XCTestCase {
    private var generator = SeededGenerator(seed: 7)

    /// A network with trained-looking batch norms: running statistics and
    /// affine parameters away from their initial 0 and 1, so that every
    /// fold (conv epilogues, the head's two batch norms) changes the result.
    private func network(_ text: String, channels: Int, size: Int, classes: Int = 10) throws -> SECNNNetwork<Float> {
        let spec = try ArchitectureSpec(parsing: text, inputChannels: channels, inputHeight: size, inputWidth: size,
                                        classes: classes)
        var network = SECNNNetwork<Float>(spec: spec, generator: &generator)
        for entry in spec.stateLayout where !entry.isParameter || entry.kind == .scale || entry.kind == .shift {
            network.update(entry.path) { values in
                for i in values.indices {
                    let noise = Float(generator.nextNormal())
                    switch entry.kind {
                    case .runningVariance, .scale: values[i] = 0.5 + abs(noise)
                    default: values[i] = 0.3 * noise
                    }
                }
            }
        }
        return network
    }

    private func graphLogits(_ network: SECNNNetwork<Float>, _ images: [Float], count: Int) -> [Float] {
        var network = network
        let spec = network.spec
        let graph = Graph<Float>.inference()
        let input = Tensor(shape: [count, spec.inputChannels, spec.inputHeight, spec.inputWidth], scalars: images)
        return graph.value(network.forward(graph, images: input).logits).scalars
    }

    /// CIFAR's 3×32×32 (im2col for the first layer, Winograd after it), a
    /// 1×28×28 input (shifted taps: 28 is not a multiple of 8), channel
    /// counts that are not multiples of four and 100 classes; one image, and
    /// three in a model made for four.
    func testLogitsMatchTheInferenceGraph() throws {
        let cases: [(String, Int, Int, Int)] = [("16x1,16x1,16x1", 3, 32, 10), ("16x2,20x3,24x2", 3, 32, 10),
                                                ("16x2,18x1", 1, 28, 10), ("17x2,19x1", 3, 16, 100)]
        for (text, channels, size, classes) in cases {
            let network = try network(text, channels: channels, size: size, classes: classes)
            let imageSize = channels * size * size
            for (count, capacity) in [(1, 1), (3, 4)] {
                let images = (0..<(count * imageSize)).map { _ in Float(generator.nextNormal()) }
                let model = InferenceModel(network, capacity: capacity)
                let expected = graphLogits(network, images, count: count)
                assertClose(model.logits(images), expected, tolerance: 1e-4, "\(text) on \(channels)x\(size)x\(size), \(count) images")
                // Buffers are reused: a second call gives the same result.
                XCTAssertEqual(model.logits(images), model.logits(images), "\(text): repeated call")
            }
        }
    }

    /// The answer for an image does not depend on the images beside it.
    func testImagesInABatchAreIndependent() throws {
        let network = try network("16x1,16x2,16x1", channels: 3, size: 32)
        let images = (0..<(2 * 3072)).map { _ in Float(generator.nextNormal()) }
        let model = InferenceModel(network, capacity: 2)
        let both = model.logits(images)
        let single = InferenceModel(network)
        assertClose(Array(both[0..<10]), single.logits(Array(images[0..<3072])), tolerance: 1e-6, "first image")
        assertClose(Array(both[10..<20]), single.logits(Array(images[3072...])), tolerance: 1e-6, "second image")
    }
}

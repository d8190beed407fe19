import SECNNCore
import XCTest
import _SECNNTestSupport

/// Fast kernels against their definitions, and per-example gradients
/// against a batch-of-one loop.
final class KernelTests: XCTestCase {
    private var generator = SeededGenerator(seed: 1)

    /// im2col (4 channels, and 1×1) and shifted taps (20 channels, 3×3).
    func testConvMatchesReferenceLoops() {
        for (kernel, channels, bias) in [(3, 4, true), (3, 4, false), (1, 4, true), (3, 20, true), (3, 20, false)] {
            let shape = Conv2dShape(batch: 3, inChannels: channels, height: 7, width: 5, outChannels: 6, kernel: kernel)
            let x: Tensor<Float> = randomTensor([3, channels, 7, 5], &generator)
            let w: Tensor<Float> = randomTensor([6, channels, kernel, kernel], &generator)
            let b: Tensor<Float> = randomTensor([6], &generator)
            let g = Graph<Float>(training: false)
            let y = g.conv2d(g.input(x), weight: g.input(w), bias: bias ? g.input(b) : nil)
            let reference = conv2dForwardReference(input: x.scalars, weight: w.scalars, bias: bias ? b.scalars : nil,
                                                   shape: shape)
            assertClose(g.value(y).scalars, reference, tolerance: 1e-5, "conv \(kernel)x\(kernel) \(channels) channels bias \(bias)")
        }
    }

    /// Winograd F(2×2, 3×3) (16 or more channels, width a multiple of 8):
    /// 37 images of 8×8 make groups of 16 tiles' worth of images per thread,
    /// the last one partial; 6×16 images, one group each.
    func testWinogradConvMatchesReferenceLoops() {
        for (batch, channels, height, width, bias) in [(37, 16, 8, 8, true), (3, 20, 6, 16, true), (3, 20, 6, 16, false)] {
            let shape = Conv2dShape(batch: batch, inChannels: channels, height: height, width: width, outChannels: 5,
                                    kernel: 3)
            let x: Tensor<Float> = randomTensor([batch, channels, height, width], &generator)
            let w: Tensor<Float> = randomTensor([5, channels, 3, 3], &generator)
            let b: Tensor<Float> = randomTensor([5], &generator)
            let g = Graph<Float>(training: false)
            let y = g.conv2d(g.input(x), weight: g.input(w), bias: bias ? g.input(b) : nil)
            let reference = conv2dForwardReference(input: x.scalars, weight: w.scalars, bias: bias ? b.scalars : nil,
                                                   shape: shape)
            assertClose(g.value(y).scalars, reference, tolerance: 1e-5,
                        "Winograd conv, \(batch) images of \(channels)×\(height)×\(width), bias \(bias)")
        }
    }

    func testConvResultDoesNotDependOnThreadCount() {
        let x: Tensor<Float> = randomTensor([5, 3, 6, 6], &generator)
        let w: Tensor<Float> = randomTensor([4, 3, 3, 3], &generator)
        func gradient(threads: Int) -> [Float] {
            ComputeThreads.set(threads)
            defer { ComputeThreads.set(2) }
            let g = Graph<Float>(training: true)
            let weight = g.parameter(w, path: "w")
            let y = g.conv2d(g.input(x), weight: weight, bias: nil)
            g.backward(from: g.crossEntropy(g.reshape(y, to: [5, 4 * 36]), labels: [0, 1, 2, 3, 4]))
            return g.gradient(weight)!.scalars
        }
        assertClose(gradient(threads: 1), gradient(threads: 2), tolerance: 1e-5, "1 vs 2 threads")
    }

    /// Per-example gradients from one batched backward (records × N, since
    /// the loss is a batch mean) equal the gradients of each example alone.
    /// With 2 input channels (im2col) and 16 (shifted taps).
    func testPerExampleGradientsMatchBatchOfOneLoop() {
        for channels in [2, 16] { checkPerExampleGradients(channels: channels) }
    }

    private func checkPerExampleGradients(channels: Int) {
        let batch = 4
        let x: Tensor<Float> = randomTensor([batch, channels, 4, 4], &generator)
        let convWeight: Tensor<Float> = randomTensor([3, channels, 3, 3], &generator, scale: 0.5)
        let convBias: Tensor<Float> = randomTensor([3], &generator)
        let fcWeight: Tensor<Float> = randomTensor([5, 12], &generator, scale: 0.3)
        let fcBias: Tensor<Float> = randomTensor([5], &generator)
        let labels: [Int32] = [0, 3, 1, 4]

        func run(_ images: Tensor<Float>, _ labels: [Int32]) -> Graph<Float> {
            let g = Graph<Float>(training: false)
            g.collectsPerExampleRecords = true
            var h = g.conv2d(g.input(images), weight: g.parameter(convWeight, path: "conv.weight"),
                             bias: g.parameter(convBias, path: "conv.bias"))
            h = g.flatten(g.maxPool2x2(g.leakyReLU(h, slope: 0.2)))
            h = g.linear(h, weight: g.parameter(fcWeight, path: "fc.weight"), bias: g.parameter(fcBias, path: "fc.bias"))
            g.backward(from: g.crossEntropy(h, labels: labels))
            return g
        }
        let batched = run(x, labels)
        XCTAssertEqual(batched.perExampleRecords.map(\.weightPath).sorted(), ["conv.weight", "fc.weight"])
        for record in batched.perExampleRecords {
            record.forEachExample(scale: Float(batch)) { n, weightGrad, biasGrad in
                let size = channels * 16
                let one = Tensor(shape: [1, channels, 4, 4], scalars: Array(x.scalars[(n * size)..<((n + 1) * size)]))
                let alone = run(one, [labels[n]]).parameterGradients()
                assertClose(Array(weightGrad), alone[record.weightPath]!.scalars, tolerance: 1e-5,
                            "\(record.weightPath) example \(n), \(channels) channels")
                assertClose(Array(biasGrad!), alone[record.biasPath!]!.scalars, tolerance: 1e-5,
                            "\(record.biasPath!) example \(n)")
            }
        }
    }

    /// Inference's pooling (no record of winners, eight values at a time)
    /// gives the training forward's values: widths that are multiples of 8,
    /// of 2 with a scalar tail, and odd (the last column dropped).
    func testMaxPoolValuesMatchTheTrainingForward() {
        for (height, width) in [(8, 8), (32, 32), (6, 12), (5, 7), (4, 2)] {
            let planes = 3, outputs = (height / 2) * (width / 2)
            let x = (0..<(planes * height * width)).map { _ in Float.random(in: -1...1, using: &generator) }
            var expected = [Float](repeating: 0, count: planes * outputs), values = expected
            var argmax = [UInt8](repeating: 0, count: planes * outputs)
            maxPool2x2Forward(input: x, output: &expected, argmax: &argmax, planes: planes, height: height, width: width)
            maxPool2x2Values(input: x, output: &values, planes: planes, height: height, width: width)
            XCTAssertEqual(values, expected, "\(height)×\(width)")
        }
    }

    func testAdamMatchesItsFormula() {
        var adam = Adam<Double>(learningRate: 0.1)
        var p = [1.0, -2.0]
        adam.step("p", parameter: &p, gradient: [0.5, -1.0])
        // Step 1: m̂ = g, v̂ = g², so the update is lr·g/(|g| + ε) = lr·sign(g).
        XCTAssertEqual(p[0], 1.0 - 0.1 * 0.5 / (0.5 + 1e-8), accuracy: 1e-12)
        XCTAssertEqual(p[1], -2.0 + 0.1 * 1.0 / (1.0 + 1e-8), accuracy: 1e-12)
        adam.step("p", parameter: &p, gradient: [0.5, 0.0])
        let m = 0.9 * 0.1 * 0.5 + 0.1 * 0.5, v = 0.999 * 0.001 * 0.25 + 0.001 * 0.25
        let expected = (1.0 - 0.1 * 0.5 / (0.5 + 1e-8)) - 0.1 / (1 - 0.81) * m / ((v / (1 - 0.998001)).squareRoot() + 1e-8)
        XCTAssertEqual(p[0], expected, accuracy: 1e-12)
        XCTAssertEqual(adam.slots["p"]?.step, 2)
    }

    func testSeededGeneratorIsReproducible() {
        var a = SeededGenerator(seed: 5), b = SeededGenerator(seed: 5), c = SeededGenerator(seed: 6)
        let first = (0..<4).map { _ in a.next() }
        XCTAssertEqual(first, (0..<4).map { _ in b.next() })
        XCTAssertNotEqual(first, (0..<4).map { _ in c.next() })
        var restored = SeededGenerator(state: a.state)
        XCTAssertEqual(restored.next(), a.next())
    }
}

import SECNNCore
import XCTest
import _SECNNTestSupport

/// Every op's backward against central finite differences, in Double.
final class GradientCheckTests: XCTestCase {
    private var generator = SeededGenerator(seed: 42)
    private let tolerance = 1e-6

    private func check(_ shapes: [[Int]], _ what: String, file: StaticString = #filePath, line: UInt = #line,
                       build: (Graph<Double>, [Variable]) -> Variable) {
        let inputs: [Tensor<Double>] = shapes.map { randomTensor($0, &generator) }
        let error = gradientCheckError(inputs: inputs, build: build)
        XCTAssertLessThanOrEqual(error, tolerance, "\(what): relative error \(error)", file: file, line: line)
    }

    func testConv3x3WithBias() {
        check([[2, 3, 5, 4], [4, 3, 3, 3], [4]], "conv3x3") { g, v in g.conv2d(v[0], weight: v[1], bias: v[2]) }
    }

    func testConv3x3WithoutBias() {
        check([[2, 2, 4, 4], [3, 2, 3, 3]], "conv3x3 no bias") { g, v in g.conv2d(v[0], weight: v[1], bias: nil) }
    }

    /// 16 input channels and more take the shifted-tap GEMMs (Conv2dImage.swift),
    /// whose input gradient (the adjoint conv, 16 channels in) takes them too.
    func testConv3x3WithShiftedTaps() {
        check([[2, 16, 4, 3], [16, 16, 3, 3], [16]], "conv3x3, shifted taps") { g, v in
            g.conv2d(v[0], weight: v[1], bias: v[2])
        }
    }

    /// Widths that are multiples of 8 take Winograd F(2×2, 3×3) (Conv2dWinograd.swift)
    /// in the forward pass and in the adjoint conv of the input gradient.
    func testConv3x3Winograd() {
        check([[2, 16, 4, 8], [16, 16, 3, 3], [16]], "conv3x3, Winograd") { g, v in
            g.conv2d(v[0], weight: v[1], bias: v[2])
        }
    }

    func testConv1x1() {
        check([[3, 4, 2, 3], [5, 4, 1, 1], [5]], "conv1x1") { g, v in g.conv2d(v[0], weight: v[1], bias: v[2]) }
    }

    func testLinear() {
        check([[4, 6], [3, 6], [3]], "linear") { g, v in g.linear(v[0], weight: v[1], bias: v[2]) }
    }

    func testBatchNorm2dTrainMode() {
        check([[3, 2, 3, 3], [2], [2]], "batchnorm2d train") { g, v in
            g.batchNorm(v[0], gamma: v[1], beta: v[2], running: ([0, 0], [1, 1])).output
        }
    }

    func testBatchNorm1dTrainMode() {
        check([[5, 3], [3], [3]], "batchnorm1d train") { g, v in
            g.batchNorm(v[0], gamma: v[1], beta: v[2], running: ([0, 0, 0], [1, 1, 1])).output
        }
    }

    func testBatchNormEvalMode() {
        let inputs: [Tensor<Double>] = [[3, 2, 2, 2], [2], [2]].map { randomTensor($0, &generator) }
        let error = gradientCheckError(inputs: inputs, training: false) { g, v in
            g.batchNorm(v[0], gamma: v[1], beta: v[2], running: ([0.3, -0.2], [0.5, 2.0])).output
        }
        XCTAssertLessThanOrEqual(error, tolerance, "batchnorm eval: relative error \(error)")
    }

    func testBatchNormFusedWithLeakyReLU() {
        check([[2, 2, 3, 3], [2], [2]], "batch norm + leaky relu, fused") { g, v in
            g.batchNorm(v[0], gamma: v[1], beta: v[2], running: ([0, 0], [1, 1]), leakyReLUSlope: 0.2).output
        }
    }

    func testLeakyReLU() {
        check([[2, 3, 4]], "leaky relu") { g, v in g.leakyReLU(v[0], slope: 0.2) }
    }

    func testMaxPool() {
        check([[2, 2, 4, 6]], "maxpool") { g, v in g.maxPool2x2(v[0]) }
        check([[1, 2, 5, 3]], "maxpool odd sides") { g, v in g.maxPool2x2(v[0]) }
    }

    func testConcatAndFlatten() {
        check([[2, 3, 2, 2], [2, 1, 2, 2]], "concat + flatten") { g, v in g.flatten(g.concatChannels(v[0], v[1])) }
    }

    func testDropoutAndChannelDropout() {
        check([[3, 4, 2, 2]], "dropout2d") { g, v in g.dropout(v[0], probability: 0.3, channels: true) }
        check([[5, 6]], "dropout") { g, v in g.dropout(v[0], probability: 0.3) }
    }

    func testCrossEntropy() {
        check([[4, 5]], "cross-entropy") { g, v in g.crossEntropy(v[0], labels: [0, 4, 2, 2]) }
    }

    func testCrossEntropyWithLabelSmoothing() {
        check([[4, 5]], "cross-entropy, ε 0.1") { g, v in g.crossEntropy(v[0], labels: [0, 4, 2, 2], smoothing: 0.1) }
    }

    func testL1PenaltyAndAdd() {
        check([[3, 4], [5]], "l1 + add") { g, v in
            g.add(g.l1Penalty([v[0], v[1]], strength: 0.3), g.crossEntropy(v[0], labels: [1, 0, 3]))
        }
    }

    func testDropoutMasksAreSeeded() {
        func mask(_ seed: UInt64) -> [Double] {
            let g = Graph<Double>(training: true, generator: SeededGenerator(seed: seed))
            return g.value(g.dropout(g.input(Tensor(repeating: 1, shape: [64, 8])), probability: 0.5)).scalars
        }
        XCTAssertEqual(mask(3), mask(3))
        XCTAssertNotEqual(mask(3), mask(4))
        XCTAssertEqual(Set(mask(3)), [0, 2], "kept values are scaled by 1/(1-p)")
    }
}

import SECNNCore
import XCTest
import _SECNNTestSupport

/// `backward(seeds:)`: a forward pass split over two graphs gives the
/// gradients of the whole, and one recorded graph can be differentiated
/// again from other seeds.
final class GraphChainingTests: XCTestCase {
    private var generator = SeededGenerator(seed: 7)

    func testTwoChainedGraphsGiveTheGradientsOfOne() {
        let x: Tensor<Double> = randomTensor([2, 2, 4, 4], &generator)
        let w1: Tensor<Double> = randomTensor([3, 2, 3, 3], &generator)
        let w2: Tensor<Double> = randomTensor([2, 3, 3, 3], &generator)
        let labels: [Int32] = [0, 1]

        // One graph: conv → leaky → (pool used twice: main and skip) → conv → concat → loss.
        let whole = Graph<Double>(training: false)
        let (wholeW1, wholeW2) = (whole.parameter(w1, path: "w1"), whole.parameter(w2, path: "w2"))
        let pooled = whole.maxPool2x2(whole.leakyReLU(whole.conv2d(whole.input(x), weight: wholeW1, bias: nil), slope: 0.2))
        whole.backward(from: head(whole, pooled, pooled, wholeW2, labels))
        let expected = whole.parameterGradients()

        // The same split at the pooled boundary, which feeds both paths of the second graph.
        let first = Graph<Double>(training: false)
        let firstW1 = first.parameter(w1, path: "w1")
        let boundary = first.maxPool2x2(first.leakyReLU(first.conv2d(first.input(x), weight: firstW1, bias: nil), slope: 0.2))
        let second = Graph<Double>(training: false)
        let main = second.input(first.value(boundary), differentiable: true)
        let skip = second.input(first.value(boundary), differentiable: true)
        let secondW2 = second.parameter(w2, path: "w2")
        second.backward(from: head(second, main, skip, secondW2, labels))
        for _ in 0..<2 {  // twice: the second pass must not add to the first
            first.backward(seeds: [(boundary, second.gradient(main)!), (boundary, second.gradient(skip)!)])
            assertClose(first.parameterGradients()["w1"]!.scalars, expected["w1"]!.scalars, tolerance: 1e-12, "w1")
        }
        assertClose(second.parameterGradients()["w2"]!.scalars, expected["w2"]!.scalars, tolerance: 1e-12, "w2")
    }

    func testRepeatedBackwardClearsPerExampleRecords() {
        let graph = Graph<Double>(training: false)
        graph.collectsPerExampleRecords = true
        let w: Tensor<Double> = randomTensor([3, 4], &generator)
        let y = graph.linear(graph.input(randomTensor([2, 4], &generator)), weight: graph.parameter(w, path: "w"), bias: nil)
        let loss = graph.crossEntropy(y, labels: [0, 2])
        graph.backward(from: loss)
        let gradient = graph.parameterGradients()["w"]!
        graph.backward(seeds: [(loss, Tensor(repeating: 2, shape: [1]))])
        XCTAssertEqual(graph.perExampleRecords.count, 1)
        assertClose(graph.parameterGradients()["w"]!.scalars, gradient.scalars.map { 2 * $0 }, tolerance: 1e-12, "2× seed")
    }

    func testReleasingValuesBeforeBackwardKeepsTheGradients() {
        let x: Tensor<Double> = randomTensor([3, 2, 4, 4], &generator)
        let w: Tensor<Double> = randomTensor([3, 2, 3, 3], &generator)
        let gamma: Tensor<Double> = randomTensor([3], &generator), beta: Tensor<Double> = randomTensor([3], &generator)
        func gradients(releasing: Bool) -> [String: Tensor<Double>] {
            let graph = Graph<Double>(training: true)
            var h = graph.conv2d(graph.input(x), weight: graph.parameter(w, path: "w"), bias: nil)
            h = graph.batchNorm(h, gamma: graph.parameter(gamma, path: "gamma"), beta: graph.parameter(beta, path: "beta"),
                                running: ([0, 0, 0], [1, 1, 1])).output
            h = graph.maxPool2x2(graph.leakyReLU(h, slope: 0.2))
            let loss = graph.crossEntropy(graph.flatten(h), labels: [0, 4, 11])
            if releasing { graph.releaseValues(keeping: [loss]) }
            graph.backward(from: loss)
            XCTAssertEqual(graph.value(loss).count, 1, "a kept value stays readable")
            return graph.parameterGradients()
        }
        let plain = gradients(releasing: false), released = gradients(releasing: true)
        for path in ["w", "gamma", "beta"] {
            XCTAssertEqual(released[path]!.scalars, plain[path]!.scalars, "\(path): identical after releasing values")
        }
    }

    /// The fused batch norm + LeakyReLU gives bitwise what the two ops give,
    /// forward and backward, and its output, released before the backward
    /// pass, is recomputed bitwise for the next conv's weight gradient.
    func testFusedBatchNormLeakyReLUMatchesTheTwoOpsAndIsRecomputedAfterRelease() {
        let x: Tensor<Float> = randomTensor([4, 2, 6, 6], &generator)
        let w1: Tensor<Float> = randomTensor([3, 2, 3, 3], &generator), w2: Tensor<Float> = randomTensor([2, 3, 3, 3], &generator)
        let gamma: Tensor<Float> = randomTensor([3], &generator), beta: Tensor<Float> = randomTensor([3], &generator)
        func run(fused: Bool, releasing: Bool) -> (activation: [Float], gradients: [String: Tensor<Float>]) {
            let graph = Graph<Float>(training: true)
            let h = graph.conv2d(graph.input(x), weight: graph.parameter(w1, path: "w1"), bias: nil)
            let (g, b) = (graph.parameter(gamma, path: "gamma"), graph.parameter(beta, path: "beta"))
            let a = fused
                ? graph.batchNorm(h, gamma: g, beta: b, running: ([0, 0, 0], [1, 1, 1]), leakyReLUSlope: 0.2).output
                : graph.leakyReLU(graph.batchNorm(h, gamma: g, beta: b, running: ([0, 0, 0], [1, 1, 1])).output, slope: 0.2)
            let activation = graph.value(a).scalars
            let y = graph.maxPool2x2(graph.conv2d(a, weight: graph.parameter(w2, path: "w2"), bias: nil))
            let loss = graph.crossEntropy(graph.flatten(y), labels: [0, 3, 17, 5])
            if releasing { graph.releaseValues(keeping: [loss]) }
            graph.backward(from: loss)
            return (activation, graph.parameterGradients())
        }
        let reference = run(fused: false, releasing: false)
        for releasing in [false, true] {
            let fused = run(fused: true, releasing: releasing)
            XCTAssertEqual(fused.activation, reference.activation, "forward")
            for path in ["w1", "w2", "gamma", "beta"] {
                XCTAssertEqual(fused.gradients[path]!.scalars, reference.gradients[path]!.scalars,
                               "\(path), releasing: \(releasing)")
            }
        }
    }

    /// Scoring turns parameter gradients off, and an eval-mode batch norm
    /// then runs its one-pass backward (`batchNormEvalBackward`): the input
    /// gradient and every per-example record, with the per-example gradients
    /// it hands out, are bitwise those of the full backward, with and without
    /// the fused LeakyReLU.
    func testEvalBatchNormWithoutParameterGradientsKeepsGradientsAndRecords() {
        let x: Tensor<Float> = randomTensor([3, 2, 6, 6], &generator)
        let w1: Tensor<Float> = randomTensor([3, 2, 3, 3], &generator), w2: Tensor<Float> = randomTensor([2, 3, 3, 3], &generator)
        let gamma: Tensor<Float> = randomTensor([3], &generator), beta: Tensor<Float> = randomTensor([3], &generator)
        let running: (mean: [Float], variance: [Float]) = ([0.3, -0.2, 0.1], [0.5, 2.0, 1.2])
        for slope: Float? in [0.2, nil] {
            func run(parameterGradients: Bool) -> (input: [Float], records: [[Float]]) {
                let graph = Graph<Float>(training: false)
                graph.collectsPerExampleRecords = true
                graph.computesParameterGradients = parameterGradients
                let input = graph.input(x, differentiable: true)
                let h = graph.conv2d(input, weight: graph.parameter(w1, path: "w1"), bias: nil)
                let a = graph.batchNorm(h, gamma: graph.parameter(gamma, path: "gamma"),
                                        beta: graph.parameter(beta, path: "beta"), running: running,
                                        leakyReLUSlope: slope).output
                let y = graph.conv2d(a, weight: graph.parameter(w2, path: "w2"), bias: nil)
                graph.backward(from: graph.crossEntropy(graph.flatten(y), labels: [0, 3, 17]))
                return (graph.gradient(input)!.scalars, graph.perExampleRecords.flatMap { record in
                    var exampleGradients: [[Float]] = []
                    record.forEachExample { _, weight, bias in exampleGradients += [Array(weight), Array(bias ?? .init(start: nil, count: 0))] }
                    return [record.input.scalars, record.gradOutput.scalars] + exampleGradients
                })
            }
            let (full, scoring) = (run(parameterGradients: true), run(parameterGradients: false))
            // Three records (two convs, a batch norm), each with its input, output gradient and 3 examples' gradients.
            XCTAssertEqual(scoring.records.count, 3 * (2 + 2 * 3), "slope \(String(describing: slope))")
            XCTAssertEqual(scoring.input, full.input, "slope \(String(describing: slope)): input gradient")
            XCTAssertEqual(scoring.records, full.records, "slope \(String(describing: slope)): records")
        }
    }

    private func head(_ g: Graph<Double>, _ main: Variable, _ skip: Variable, _ w2: Variable, _ labels: [Int32]) -> Variable {
        let mixed = g.concatChannels(g.conv2d(main, weight: w2, bias: nil), skip)
        return g.crossEntropy(g.reshape(mixed, to: [2, 5 * 2 * 2]), labels: labels)
    }
}

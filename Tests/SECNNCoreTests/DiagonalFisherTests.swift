import SECNNCore
import XCTest
import _SECNNTestSupport

/// The diagonal natural score from one batched backward pass against its
/// definition computed from a batch-of-one loop, in Double.
final class DiagonalFisherTests: XCTestCase {
    private var generator = SeededGenerator(seed: 11)

    func testScoreFromBatchedRecordsEqualsBatchOfOneDefinition() {
        let batch = 5
        let images: Tensor<Double> = randomTensor([batch, 2, 4, 4], &generator)
        let labels: [Int32] = [0, 2, 1, 1, 0]
        let parameters: [String: Tensor<Double>] = [
            "conv.weight": randomTensor([3, 2, 3, 3], &generator, scale: 0.5),
            "conv.bias": randomTensor([3], &generator),
            "bn.weight": randomTensor([3], &generator), "bn.bias": randomTensor([3], &generator),
            "fc.weight": randomTensor([3, 3 * 2 * 2], &generator, scale: 0.5), "fc.bias": randomTensor([3], &generator),
        ]

        let graph = Graph<Double>(training: false)
        graph.collectsPerExampleRecords = true
        graph.backward(from: loss(graph, graph.input(images), parameters, labels))
        var fisher = DiagonalFisher()
        for record in graph.perExampleRecords { fisher.accumulate(record, scale: Double(batch)) }
        XCTAssertEqual(fisher.paths, parameters.keys.sorted())

        // Definition: explicit per-example gradient vectors, one graph per example.
        let size = images.count / batch
        var vectors: [[Double]] = []
        for n in 0..<batch {
            let single = Graph<Double>(training: false)
            let image = Tensor(shape: [1, 2, 4, 4], scalars: Array(images.scalars[(n * size)..<((n + 1) * size)]))
            single.backward(from: loss(single, single.input(image), parameters, [labels[n]]))
            let gradients = single.parameterGradients()
            vectors.append(parameters.keys.sorted().flatMap { gradients[$0]!.scalars })
        }
        // A large ε too: only then does the per-example scale of the gradients matter to η.
        for epsilon in [1e-9, 1e-2] {
            var expected = 0.0
            for i in vectors[0].indices {
                let mean = vectors.reduce(0) { $0 + $1[i] } / Double(batch)
                let fisherEntry = vectors.reduce(0) { $0 + $1[i] * $1[i] } / Double(batch)
                expected += mean * mean / (fisherEntry + epsilon)
            }
            let actual = fisher.naturalScore(epsilon: epsilon)
            XCTAssertEqual(actual, expected, accuracy: 1e-10 * expected, "η (ε \(epsilon)) from records vs batch of one")
            // tr(F_ε⁻¹F): each parameter counts F/(F + ε), 1 for all but the smallest gradients at the large ε.
            let effective = vectors[0].indices.reduce(0.0) { sum, i in
                let fisherEntry = vectors.reduce(0) { $0 + $1[i] * $1[i] } / Double(batch)
                return sum + fisherEntry / (fisherEntry + epsilon)
            }
            let both = fisher.naturalScoreAndEffectiveParameters(epsilon: epsilon)
            XCTAssertEqual(both.score, actual)
            XCTAssertEqual(both.effectiveParameters, effective, accuracy: 1e-10 * effective, "P_eff (ε \(epsilon))")
            XCTAssertGreaterThan(expected, 0.5)
            XCTAssertLessThan(expected, Double(vectors[0].count), "each term is at most 1")
        }
    }

    private func loss(_ g: Graph<Double>, _ x: Variable, _ p: [String: Tensor<Double>], _ labels: [Int32]) -> Variable {
        func v(_ path: String) -> Variable { g.parameter(p[path]!, path: path) }
        var h = g.conv2d(x, weight: v("conv.weight"), bias: v("conv.bias"))
        h = g.batchNorm(h, gamma: v("bn.weight"), beta: v("bn.bias"), running: ([0.1, -0.2, 0.3], [0.5, 1.5, 2])).output
        h = g.flatten(g.maxPool2x2(g.leakyReLU(h, slope: 0.2)))
        return g.crossEntropy(g.linear(h, weight: v("fc.weight"), bias: v("fc.bias")), labels: labels)
    }
}

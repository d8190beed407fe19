import SECNNCore
import XCTest
import _SECNNTestSupport

/// A profiled graph times its ops by kind, counts the conv FLOPs, and
/// computes the same gradients as an unprofiled one (the profile runs each
/// conv's backward as two passes).
final class OpProfileTests: XCTestCase {
    func testProfiledGraphGivesTheSameGradientsAndCountsConvWork() {
        var generator = SeededGenerator(seed: 3)
        let x: Tensor<Float> = randomTensor([4, 3, 8, 8], &generator)
        let w1: Tensor<Float> = randomTensor([5, 3, 3, 3], &generator), b1: Tensor<Float> = randomTensor([5], &generator)
        let w2: Tensor<Float> = randomTensor([2, 5, 3, 3], &generator)
        func run(_ profile: OpProfile?) -> [String: Tensor<Float>] {
            let graph = Graph<Float>(training: true)
            graph.profile = profile
            var h = graph.conv2d(graph.input(x), weight: graph.parameter(w1, path: "w1"), bias: graph.parameter(b1, path: "b1"))
            h = graph.maxPool2x2(graph.leakyReLU(h, slope: 0.2))
            h = graph.conv2d(h, weight: graph.parameter(w2, path: "w2"), bias: nil)
            graph.backward(from: graph.crossEntropy(graph.flatten(h), labels: [0, 5, 9, 31]))
            return graph.parameterGradients()
        }
        let profile = OpProfile()
        let profiled = run(profile), plain = run(nil)
        for path in ["w1", "b1", "w2"] {
            assertClose(profiled[path]!.scalars, plain[path]!.scalars, tolerance: 1e-6, "\(path) with and without profile")
        }
        // 2·N·O·C·K·K·H·W per conv: 2·4·5·27·64 + 2·4·2·45·16.
        let forward = 2.0 * 4 * 5 * 27 * 64 + 2.0 * 4 * 2 * 45 * 16
        XCTAssertEqual(profile.flops[.convForward], forward)
        XCTAssertEqual(profile.flops[.convBackwardWeight], forward)
        XCTAssertEqual(profile.flops[.convBackwardData], 2.0 * 4 * 2 * 45 * 16, "the first conv needs no input gradient")
        for kind in [OpKind.convForward, .convBackwardData, .convBackwardWeight, .activation, .pool, .head] {
            XCTAssertGreaterThan(profile.seconds[kind] ?? 0, 0, "\(kind) was timed")
        }
        XCTAssertNil(profile.seconds[.batchNorm], "no batch norm in this graph")
    }
}

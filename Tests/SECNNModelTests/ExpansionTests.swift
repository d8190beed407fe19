import SECNNCore
import SECNNModel
import XCTest
import _SECNNTestSupport

/// The structure of expansions: counts, paths, shapes, state-dict order,
/// old values kept where they belong, the new layer's identity, and the
/// errors of refused expansions.
final class ExpansionTests: XCTestCase {
    /// Three blocks with several layers, small enough to check every entry.
    private func smallSpec() throws -> ArchitectureSpec {
        try ArchitectureSpec(parsing: "4x2,6x3,5x2", inputChannels: 2, inputHeight: 8, inputWidth: 8, classes: 3)
    }

    func testAddedLayerToThePaperModel() throws {
        let spec = try ArchitectureSpec(parsing: "16x1,16x1,16x1")
        var generator = SeededGenerator(seed: 1)
        let network = try randomNetwork(spec, &generator)
        let calibration: Tensor<Float> = randomTensor([4, 3, 32, 32], &generator)
        for block in 0..<3 {
            let (grown, expansion) = try network.addingLayer(toBlock: block, calibration: calibration, generator: &generator)
            XCTAssertEqual(grown.parameterCount, 11360, "block \(block)")
            XCTAssertEqual([expansion.parametersBefore, expansion.parametersAfter, expansion.parameterDelta], [9024, 11360, 2336])
            XCTAssertEqual("\(expansion)", "add a layer to block \(block): 9024 → 11360 parameters (+2336)")
            XCTAssertEqual(expansion.operation, .layer)
            XCTAssertEqual(expansion.channelsAdded, 0)
            XCTAssertEqual(expansion.before, spec)
            XCTAssertEqual(expansion.after, grown.spec)
            XCTAssertEqual(grown.spec.blocks.map(\.layers), (0..<3).map { $0 == block ? 2 : 1 })
            XCTAssertEqual(expansion.addedPaths, ["conv.weight", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"]
                .map { "blocks.\(block).layers.1.\($0)" })
            XCTAssertEqual(expansion.growth, [:], "adding a layer grows no existing tensor")
            assertValidState(grown, "layer on block \(block)")
            for (path, tensor) in network.state.entries { assertShared(tensor, grown.state[path], "block \(block): \(path)") }
        }
    }

    /// At noise 0 the new conv is δ_oc in the centre tap, its BN holds the
    /// features' own statistics, and the block's new output is
    /// LeakyReLU(old output): conv and BN are the identity in eval mode.
    func testNewLayerIsTheIdentityUpToItsLeakyReLU() throws {
        let spec = try smallSpec()
        var generator = SeededGenerator(seed: 2)
        let network = try randomNetwork(spec, &generator)
        let calibration: Tensor<Float> = randomTensor([16, 2, 8, 8], &generator)
        for block in 0..<3 {
            let (grown, _) = try network.addingLayer(toBlock: block, calibration: calibration, noise: 0, generator: &generator)
            let (layer, channels) = (spec.blocks[block].layers, spec.blocks[block].channels)
            let identity: [Float] = (0..<(channels * channels * 9)).map { $0 / 9 / channels == $0 / 9 % channels && $0 % 9 == 4 ? 1 : 0 }
            XCTAssertEqual(grown.state.tensor("\(ParameterPath.conv(block, layer)).weight").scalars, identity, "block \(block)")

            let old = blockFeatures(network, block, calibration)
            let (mean, variance) = channelStatistics(old)
            let bn = ParameterPath.batchNorm(block, layer)
            func state(_ name: String) -> [Float] { grown.state.tensor("\(bn).\(name)").scalars }
            assertClose(state("running_mean"), mean.map(Float.init), tolerance: 1e-6, "block \(block) running mean")
            assertClose(state("running_var"), variance.map(Float.init), tolerance: 1e-6, "block \(block) running variance")
            assertClose(state("weight"), variance.map { Float(($0 + 1e-5).squareRoot()) }, tolerance: 1e-6, "block \(block) γ")
            assertClose(state("bias"), mean.map(Float.init), tolerance: 1e-6, "block \(block) β")

            // 1/√(1 + ε) alone would be off by 5e-6; rounding is far below.
            let slope = Float(ArchitectureSpec.slope)
            assertClose(blockFeatures(grown, block, calibration).scalars, old.scalars.map { $0 >= 0 ? $0 : slope * $0 },
                        tolerance: 1e-6, "block \(block): new output = LeakyReLU(old output)")
        }
    }

    /// Per-channel mean and biased variance of (N, C, H, W) features, in Double.
    private func channelStatistics(_ features: Tensor<Float>) -> (mean: [Double], variance: [Double]) {
        let (count, channels) = (features.shape[0], features.shape[1])
        let spatial = features.count / count / channels
        var mean: [Double] = [], variance: [Double] = []
        for c in 0..<channels {
            var values: [Double] = []
            for n in 0..<count {
                let start = (n * channels + c) * spatial
                values += features.scalars[start..<(start + spatial)].map(Double.init)
            }
            let m = values.reduce(0, +) / Double(values.count)
            mean.append(m)
            variance.append(values.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(values.count))
        }
        return (mean, variance)
    }

    func testNewLayerNoiseIsSeededGaussianOfTheGivenScale() throws {
        let spec = try ArchitectureSpec(parsing: "16x1,16x1", inputChannels: 1, inputHeight: 8, inputWidth: 8)
        var generator = SeededGenerator(seed: 3)
        let network = try randomNetwork(spec, &generator)
        let calibration: Tensor<Float> = randomTensor([4, 1, 8, 8], &generator)
        func grow(seed: UInt64) throws -> [Float] {
            var generator = SeededGenerator(seed: seed)
            let grown = try network.addingLayer(toBlock: 1, calibration: calibration, noise: 1e-4, generator: &generator).network
            let weight = grown.state.tensor("\(ParameterPath.conv(1, 1)).weight").scalars
            return weight.indices.map { weight[$0] - ($0 / 9 / 16 == $0 / 9 % 16 && $0 % 9 == 4 ? 1 : 0) }
        }
        let noise = try grow(seed: 7)
        XCTAssertEqual(try grow(seed: 7), noise, "the same generator state gives the same layer")
        XCTAssertNotEqual(try grow(seed: 8), noise)
        let values = noise.map(Double.init)
        let mean = values.reduce(0, +) / Double(values.count)
        let std = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count)).squareRoot()
        // 2,304 draws: the sample deviation is within 10% (±4 standard errors), the mean within 4 standard errors.
        XCTAssertEqual(std, 1e-4, accuracy: 1e-5, "noise standard deviation")
        XCTAssertLessThan(abs(mean), 4e-4 / Double(values.count).squareRoot(), "noise mean")
    }

    func testWideningGrowsTheBlockAndItsConsumersKeepingOldValues() throws {
        let spec = try smallSpec()
        var generator = SeededGenerator(seed: 4)
        let network = try randomNetwork(spec, &generator)
        for block in 0..<3 {
            for count in [1, 3] {
                let what = "widen block \(block) by \(count)"
                let (grown, expansion) = try network.widening(block: block, by: count, generator: &generator)
                var expectedSpec = spec
                expectedSpec.blocks[block].channels += count
                XCTAssertEqual(grown.spec, expectedSpec, what)
                XCTAssertEqual(expansion.after, expectedSpec, what)
                XCTAssertEqual(expansion.before, spec, what)
                XCTAssertEqual(grown.parameterCount, expectedSpec.parameterCount, what)
                XCTAssertEqual(expansion.parameterDelta, expectedSpec.parameterCount - spec.parameterCount, what)
                XCTAssertEqual("\(expansion)", "\(what) channels: \(spec.parameterCount) → "
                               + "\(expectedSpec.parameterCount) parameters (+\(expansion.parameterDelta))")
                XCTAssertEqual(expansion.operation, .widen)
                XCTAssertEqual(expansion.channelsAdded, count)
                XCTAssertEqual(expansion.addedPaths, [], what)
                assertValidState(grown, what)

                var expectedGrowth: Set<String> = []
                for layer in 0..<spec.blocks[block].layers {
                    expectedGrowth.insert("\(ParameterPath.conv(block, layer)).weight")
                    for name in ["weight", "bias", "running_mean", "running_var"] {
                        expectedGrowth.insert("\(ParameterPath.batchNorm(block, layer)).\(name)")
                    }
                }
                expectedGrowth.insert("\(ParameterPath.conv(block, 0)).bias")
                if block < 2 { expectedGrowth.insert("\(ParameterPath.conv(block + 1, 0)).weight") }
                if block != 1 { expectedGrowth.insert("\(ParameterPath.mix).weight") }
                XCTAssertEqual(Set(expansion.growth.keys), expectedGrowth, what)

                for (path, tensor) in network.state.entries {
                    guard expansion.growth[path] != nil else {
                        assertShared(tensor, grown.state[path], "\(what): \(path)")
                        continue
                    }
                    checkGrown(path, old: tensor, new: grown.state.tensor(path), block: block, count: count,
                               lastChannels: spec.blocks[2].channels, what)
                }
            }
        }
    }

    /// Checks one grown tensor entry by entry: every old value at its new
    /// coordinates (the block's channels appended at the end of each axis
    /// that has them, except in the head's mix conv when the last block is
    /// widened: there the new inputs come before block 0's skip channels),
    /// and every new entry as the expansion initialises it.
    private func checkGrown(_ path: String, old: Tensor<Float>, new: Tensor<Float>, block: Int, count: Int,
                            lastChannels: Int, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        let insertsBeforeSkip = path == "\(ParameterPath.mix).weight" && block == 2
        func newCoordinate(_ axis: Int, _ index: Int) -> Int {
            insertsBeforeSkip && axis == 1 && index >= lastChannels ? index + count : index
        }
        func flat(_ index: [Int], _ shape: [Int]) -> Int { zip(index, shape).reduce(0) { $0 * $1.1 + $1.0 } }
        var isOld = [Bool](repeating: false, count: new.count)
        for position in 0..<old.count {
            var rest = position, index = [Int](repeating: 0, count: old.shape.count)
            for axis in old.shape.indices.reversed() {
                index[axis] = rest % old.shape[axis]
                rest /= old.shape[axis]
            }
            let target = flat(index.indices.map { newCoordinate($0, index[$0]) }, new.shape)
            isOld[target] = true
            XCTAssertEqual(new.scalars[target].bitPattern, old.scalars[position].bitPattern,
                           "\(what): \(path) old entry \(index)", file: file, line: line)
        }
        let fresh = new.scalars.indices.filter { !isOld[$0] }.map { new.scalars[$0] }
        XCTAssertEqual(fresh.count, new.count - old.count, "\(what): \(path)", file: file, line: line)
        switch path.split(separator: ".").suffix(2).joined(separator: ".") {
        case "bn.weight", "bn.running_var": XCTAssertEqual(Set(fresh), [1], "\(what): \(path)", file: file, line: line)
        case "bn.bias", "bn.running_mean", "conv.bias": XCTAssertEqual(Set(fresh), [0], "\(what): \(path)", file: file, line: line)
        default:  // weights: N(0, 1e-4²)
            XCTAssertLessThan(fresh.map(abs).max()!, 6e-4, "\(what): \(path)", file: file, line: line)
            XCTAssertGreaterThan(fresh.map(abs).max()!, 1e-6, "\(what): \(path) has noise", file: file, line: line)
        }
    }

    /// Without noise a widened network computes the same function: the new
    /// channels are 0 and are read with weight 0.
    func testWideningWithoutNoiseKeepsTheFunction() throws {
        let spec = try smallSpec()
        var generator = SeededGenerator(seed: 5)
        let network = try randomNetwork(spec, &generator)
        let images: Tensor<Float> = randomTensor([8, 2, 8, 8], &generator)
        let before = evalLogits(network, images)
        for block in 0..<3 {
            let grown = try network.widening(block: block, by: 2, noise: 0, generator: &generator).network
            assertClose(evalLogits(grown, images).scalars, before.scalars, tolerance: 1e-6, "widen block \(block), noise 0")
        }
    }

    func testRefusedExpansionsSayWhy() throws {
        let spec = try ArchitectureSpec(parsing: "4x1,4x1", inputChannels: 1, inputHeight: 8, inputWidth: 8)
        var generator = SeededGenerator(seed: 6)
        let network = try randomNetwork(spec, &generator)
        let calibration: Tensor<Float> = randomTensor([2, 1, 8, 8], &generator)
        let cases: [(String, (inout SeededGenerator) throws -> Void)] = [
            ("cannot add a layer to block 2: the model has 2 blocks (0–1)",
             { _ = try network.addingLayer(toBlock: 2, calibration: calibration, generator: &$0) }),
            ("cannot widen block -1: the model has 2 blocks (0–1)", { _ = try network.widening(block: -1, by: 2, generator: &$0) }),
            ("cannot widen block 0 by 0 channels: the count must be at least 1",
             { _ = try network.widening(block: 0, by: 0, generator: &$0) }),
            ("cannot add a layer to block 1: it has 1 layers, the limit (maxLayersPerBlock) is 1",
             { _ = try network.addingLayer(toBlock: 1, calibration: calibration, limits: .init(maxLayersPerBlock: 1),
                                           generator: &$0) }),
            ("cannot widen block 1 by 3 channels: it has 4, the limit (maxChannelsPerBlock) is 6",
             { _ = try network.widening(block: 1, by: 3, limits: .init(maxChannelsPerBlock: 6), generator: &$0) }),
            ("cannot add a layer to block 0: calibration images have shape [2, 3, 8, 8], expected [N, 1, 8, 8] with N ≥ 1",
             { _ = try network.addingLayer(toBlock: 0, calibration: Tensor(zeros: [2, 3, 8, 8]), generator: &$0) }),
            ("cannot widen block 0: noise must be a finite standard deviation ≥ 0, not -1.0",
             { _ = try network.widening(block: 0, by: 1, noise: -1, generator: &$0) }),
            ("cannot add a layer to block 0: noise must be a finite standard deviation ≥ 0, not nan",
             { _ = try network.addingLayer(toBlock: 0, calibration: calibration, noise: .nan, generator: &$0) }),
        ]
        for (message, expand) in cases {
            XCTAssertThrowsError(try expand(&generator), message) { error in
                XCTAssertEqual(error as? ModelError, .invalidExpansion(message))
            }
        }
        // The limits are bounds, not strict: reaching them is allowed.
        XCTAssertEqual(try network.widening(block: 1, by: 2, limits: .init(maxChannelsPerBlock: 6), generator: &generator)
            .network.spec.blocks[1].channels, 6)
        XCTAssertEqual(try network.addingLayer(toBlock: 1, calibration: calibration, limits: .init(maxLayersPerBlock: 2),
                                               generator: &generator).network.spec.blocks[1].layers, 2)
    }
}

import SECNNCore
import SECNNModel
import XCTest
import _SECNNTestSupport

final class ArchitectureTests: XCTestCase {
    func testParameterCountsOfThePaper() throws {
        XCTAssertEqual(try ArchitectureSpec(parsing: "16x1,16x1,16x1").parameterCount, 9024)
        XCTAssertEqual(try ArchitectureSpec(parsing: "16x2,16x1,16x1").parameterCount, 11360)
    }

    /// Multiply-adds per image, counted by hand from the layer shapes.
    func testMultiplyAddsCountedByHand() throws {
        // 32×32×3: 3→16 conv at 32² (16·3·9·1024), 16→16 at 16² and 8² (16·16·9·256, ·64),
        // the 1×1 mix of 16+16 channels to 10 at 4² (10·32·16), fc1 160→20, fc2 20→10.
        let start = 442_368 + 589_824 + 147_456 + 5_120 + 3_200 + 200
        XCTAssertEqual(try ArchitectureSpec(parsing: "16x1,16x1,16x1").multiplyAdds, start)
        XCTAssertEqual(start, 1_188_168)
        // An added layer on block 0 costs 16·16·9 at 32²; the same layer on block 2 costs 16× less.
        XCTAssertEqual(try ArchitectureSpec(parsing: "16x2,16x1,16x1").multiplyAdds, start + 2_359_296)
        XCTAssertEqual(try ArchitectureSpec(parsing: "16x1,16x1,16x2").multiplyAdds, start + 147_456)
        // Digits, 8×8×1: convs at 8², 4², 2² (16·1·9·64, 16·16·9·16, ·4), the mix at 1×1 (10·32),
        // fc1 10→20, fc2 20→10.
        let digits = try ArchitectureSpec(parsing: "16x1,16x1,16x1", inputChannels: 1, inputHeight: 8, inputWidth: 8)
        XCTAssertEqual(digits.multiplyAdds, 9_216 + 36_864 + 9_216 + 320 + 200 + 200)
    }

    func testTrainingMemoryEstimateCountedByHand() throws {
        // Per 32×32×3 image: the input (3072); block 0's five maps of 16×32² and its pooled 16×16²;
        // blocks 1 and 2 likewise at 16² and 8²; ×512 images; 8 copies of 9,024 parameters.
        let kept = 3_072 + (5 * 16_384 + 4_096) + (5 * 4_096 + 1_024) + (5 * 1_024 + 256)
        let start = try ArchitectureSpec(parsing: "16x1,16x1,16x1")
        XCTAssertEqual(start.trainingMemoryEstimate(batchSize: 512), 4 * (kept * 512 + 8 * 9_024))
        // A second layer on block 0 keeps two more maps of 16×32² per image.
        let deeper = try ArchitectureSpec(parsing: "16x2,16x1,16x1")
        XCTAssertEqual(deeper.trainingMemoryEstimate(batchSize: 512) - start.trainingMemoryEstimate(batchSize: 512),
                       4 * (2 * 16_384 * 512 + 8 * 2_336))
    }

    /// The run's bounds refuse a candidate before it is built, naming it and the bound.
    func testBoundsRefuseCandidatesNamingTheExpansionAndTheBound() throws {
        let start = try ArchitectureSpec(parsing: "16x1,16x1,16x1")
        let layer = Candidate(block: 0, op: .layer), widen = Candidate(block: 2, op: .widen, channels: 2)
        let parameters = ExpansionLimits(maxParameters: 11_000)
        XCTAssertThrowsError(try parameters.check(layer, growing: start)) { error in
            XCTAssertEqual("\(error)", "cannot add a layer to block 0: the model would have 11360 parameters, past the bound "
                           + "of 11000 (--max-params)")
        }
        XCTAssertNoThrow(try parameters.check(widen, growing: start), "9,652 parameters are within the bound")
        let needed = start.applying(layer).trainingMemoryEstimate(batchSize: 512)
        let memory = ExpansionLimits(maxTrainingMemory: .init(bytes: needed - 1, batchSize: 512))
        XCTAssertThrowsError(try memory.check(layer, growing: start)) { error in
            XCTAssertEqual("\(error)", "cannot add a layer to block 0: training 16x2,16x1,16x1 at batch 512 would need about "
                           + "\((needed + (1 << 20) - 1) >> 20) MiB, past the bound of \((needed - 1 + (1 << 20) - 1) >> 20) "
                           + "MiB (--max-memory)")
        }
        XCTAssertNoThrow(try ExpansionLimits(maxTrainingMemory: .init(bytes: needed, batchSize: 512))
            .check(layer, growing: start))
    }

    /// An inference graph applies each eval-mode batch norm and LeakyReLU to
    /// a conv's output planes as the conv writes them (Winograd convs and the
    /// others alike): the logits are an eval graph's, bit for bit, with
    /// running statistics that are not the identity.
    func testInferenceGraphGivesTheEvalLogits() throws {
        let spec = try ArchitectureSpec(parsing: "16x2,16x1", inputChannels: 3, inputHeight: 16, inputWidth: 16, classes: 5)
        var generator = SeededGenerator(seed: 11)
        var network = SECNNNetwork<Float>(spec: spec, generator: &generator)
        let images: Tensor<Float> = randomTensor([6, 3, 16, 16], &generator)
        for _ in 0..<3 {  // train-mode passes move the running statistics away from (0, 1)
            _ = network.forward(Graph<Float>(training: true, generator: generator), images: images)
        }
        XCTAssertNotEqual(network.state.tensor("\(ParameterPath.batchNorm(0, 1)).running_var").scalars, Array(repeating: 1, count: 16))
        let eval = Graph<Float>(training: false), inference = Graph<Float>.inference()
        let expected = eval.value(network.forward(eval, images: images).logits).scalars
        XCTAssertEqual(inference.value(network.forward(inference, images: images).logits).scalars, expected)
    }

    func testBadSpecsNameTheBlock() {
        for (text, fragment) in [("16x1,abc", "block 2 is 'abc'"), ("16x1", "at least 2"),
                                 ("16x0,16x1", "block 0 (16x0) needs at least 1 channel and 1 layer"),
                                 ("16x1,16x1,16x1,16x1,16x1,16x1", "halve a 32x32 image to nothing")] {
            XCTAssertThrowsError(try ArchitectureSpec(parsing: text), text) { error in
                XCTAssertTrue("\(error)".contains(fragment), "\(text): \(error)")
            }
        }
    }

    func testStateNamesFollowPyTorchOrder() throws {
        let paths = try ArchitectureSpec(parsing: "16x2,16x1").stateLayout.map(\.path)
        XCTAssertEqual(Array(paths.prefix(8)), [
            "blocks.0.layers.0.conv.weight", "blocks.0.layers.0.conv.bias",
            "blocks.0.layers.0.bn.weight", "blocks.0.layers.0.bn.bias",
            "blocks.0.layers.0.bn.running_mean", "blocks.0.layers.0.bn.running_var",
            "blocks.0.layers.1.conv.weight", "blocks.0.layers.1.bn.weight",
        ])
        XCTAssertEqual(paths.last, "head.fc2.bias")
    }

    /// The whole network's gradient (train mode, dropout on with a fixed
    /// mask) against finite differences, in Double, for every parameter.
    func testWholeModelGradientMatchesFiniteDifferences() throws {
        let spec = try ArchitectureSpec(blocks: [BlockSpec(channels: 2, layers: 2), BlockSpec(channels: 3, layers: 1)],
                                        inputChannels: 1, inputHeight: 4, inputWidth: 4, classes: 3)
        var generator = SeededGenerator(seed: 11)
        let network = SECNNNetwork<Double>(spec: spec, generator: &generator)
        let images: Tensor<Double> = randomTensor([3, 1, 4, 4], &generator)
        let labels: [Int32] = [0, 2, 1]
        let paths = network.parameterPaths
        let parameters = paths.map { network.state.tensor($0) }
        let error = gradientCheckError(inputs: parameters + [images]) { graph, variables in
            var model = network
            let logits = model.forward(graph, input: variables.last!,
                                       parameters: Dictionary(uniqueKeysWithValues: zip(paths, variables)))
            let loss = graph.crossEntropy(logits, labels: labels)
            return graph.add(loss, graph.l1Penalty(Array(variables.dropLast()), strength: 0.01))
        }
        XCTAssertLessThanOrEqual(error, 1e-6, "whole-model relative error \(error)")
    }

    /// In eval mode each example's gradient is independent of the others:
    /// per-example gradients from one batch equal a batch-of-one loop.
    func testWholeModelPerExampleGradientsMatchBatchOfOne() throws {
        let spec = try ArchitectureSpec(parsing: "4x2,6x1", inputChannels: 3, inputHeight: 8, inputWidth: 8, classes: 5)
        var generator = SeededGenerator(seed: 3)
        var network = SECNNNetwork<Float>(spec: spec, generator: &generator)
        let images: Tensor<Float> = randomTensor([5, 3, 8, 8], &generator)
        let labels: [Int32] = [0, 4, 2, 1, 3]
        let graph = Graph<Float>(training: false)
        graph.collectsPerExampleRecords = true
        graph.backward(from: graph.crossEntropy(network.forward(graph, images: images).logits, labels: labels))
        XCTAssertEqual(Set(graph.perExampleRecords.map(\.weightPath)).count, 11, "3 convs + mix, 2 linears, 5 BNs")
        for record in graph.perExampleRecords {
            record.forEachExample(scale: 5) { n, weightGrad, biasGrad in
                let one = Tensor(shape: [1, 3, 8, 8], scalars: Array(images.scalars[(n * 192)..<((n + 1) * 192)]))
                let alone = Graph<Float>(training: false)
                alone.backward(from: alone.crossEntropy(network.forward(alone, images: one).logits, labels: [labels[n]]))
                let expected = alone.parameterGradients()
                assertClose(Array(weightGrad), expected[record.weightPath]!.scalars, tolerance: 1e-5, "\(record.weightPath) #\(n)")
                if let biasPath = record.biasPath {
                    assertClose(Array(biasGrad!), expected[biasPath]!.scalars, tolerance: 1e-5, "\(biasPath) #\(n)")
                }
            }
        }
    }
}

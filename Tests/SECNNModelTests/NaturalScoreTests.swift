import Dispatch
import SECNNCore
import SECNNModel
import XCTest
import _SECNNTestSupport

/// The model-level natural scores against their definitions, and the shared
/// candidate scoring against materialised candidate models.
final class NaturalScoreTests: XCTestCase {
    /// A small network on 1×8×8 images (the digits' shape), randomly
    /// initialised, with non-trivial batch-norm running statistics.
    private func fixture(_ text: String = "3x1,4x2,3x1") throws -> (SECNNNetwork<Float>, LabeledImages) {
        try fixture(text, channels: 1, size: 8, classes: 4, count: 11)
    }

    /// `count` random images of `channels`×`size`×`size` and a network of `text` for them.
    private func fixture(_ text: String, channels: Int, size: Int, classes: Int,
                         count: Int) throws -> (SECNNNetwork<Float>, LabeledImages) {
        var generator = SeededGenerator(seed: 5)
        let spec = try ArchitectureSpec(parsing: text, inputChannels: channels, inputHeight: size, inputWidth: size,
                                        classes: classes)
        let initial = SECNNNetwork<Float>(spec: spec, generator: &generator)
        var tensors: [String: Tensor<Float>] = [:]
        for (path, tensor) in initial.state.entries {
            let shifted = path.hasSuffix("running_var") ? tensor.scalars.map { _ in Float(0.5 + generator.nextUnit()) }
                : path.hasSuffix("running_mean") ? tensor.scalars.map { _ in Float(generator.nextNormal() * 0.2) }
                : tensor.scalars
            tensors[path] = Tensor(shape: tensor.shape, scalars: shifted)
        }
        let network = try SECNNNetwork<Float>(spec: spec, tensors: tensors, source: "fixture")
        let pixels = channels * size * size
        let images = LabeledImages(images: (0..<(count * pixels)).map { _ in Float(generator.nextNormal()) },
                                   labels: (0..<count).map { _ in Int32(generator.next() % UInt64(classes)) },
                                   channels: channels, height: size, width: size)
        return (network, images)
    }

    private func options(_ method: NaturalScoreMethod, epsilon: Double = 1e-12, subset: Int = 11) -> ScoringOptions {
        // Chunks of 4 over 11 images: the last chunk is short.
        ScoringOptions(fisher: NaturalScoreSettings(method: method, epsilon: epsilon, damping: 1e-3),
                       subsetSize: subset, chunkSize: 4, noise: 1e-2, seed: 3)
    }

    func testDiagonalScoreEqualsExplicitPerExampleGradientsInDouble() throws {
        try assertDiagonalScoreMatchesDoubleReference(try fixture())
    }

    /// The same at the paper's start model on CIFAR-10's shape, where every kernel takes its production path.
    func testDiagonalScoreEqualsExplicitPerExampleGradientsInDoubleAtProductionSize() throws {
        try assertDiagonalScoreMatchesDoubleReference(try fixture("16x1,16x1,16x1", channels: 3, size: 32, classes: 10,
                                                                  count: 6))
    }

    /// η = Σ_i ḡ_i² / (F_ii + ε) from batch-of-one gradients in Double, against the scorer's.
    private func assertDiagonalScoreMatchesDoubleReference(_ fixture: (SECNNNetwork<Float>, LabeledImages),
                                                           line: UInt = #line) throws {
        let (network, images) = fixture
        let double = try SECNNNetwork<Double>(
            spec: network.spec, tensors: Dictionary(uniqueKeysWithValues: network.state.entries.map {
                ($0.path, Tensor<Double>(shape: $0.tensor.shape, scalars: $0.tensor.scalars.map(Double.init)))
            }), source: "double")
        var vectors: [[Double]] = []
        for n in 0..<images.count {
            var model = double
            let (image, label) = images.batch([n][...])
            let graph = Graph<Double>(training: false)
            let (logits, _) = model.forward(graph, images: Tensor(shape: image.shape, scalars: image.scalars.map(Double.init)))
            graph.backward(from: graph.crossEntropy(logits, labels: label))
            let gradients = graph.parameterGradients()
            vectors.append(model.parameterPaths.flatMap { gradients[$0]!.scalars })
        }
        XCTAssertEqual(vectors[0].count, network.parameterCount, line: line)
        for epsilon in [1e-12, 1e-4] {
            var expected = 0.0
            for i in vectors[0].indices {
                let mean = vectors.reduce(0) { $0 + $1[i] } / Double(vectors.count)
                let fisher = vectors.reduce(0) { $0 + $1[i] * $1[i] } / Double(vectors.count)
                expected += mean * mean / (fisher + epsilon)
            }
            let score = try CandidateScorer(options: options(.diag, epsilon: epsilon, subset: images.count),
                                            subset: images).score(network)
            XCTAssertEqual(score.parameters, network.parameterCount, line: line)
            XCTAssertEqual(score.eta, expected, accuracy: 1e-5 * expected, "diagonal η, ε \(epsilon)", line: line)
        }
    }

    func testCandidateScoresEqualScoresOfMaterialisedCandidates() throws {
        let (network, images) = try fixture()
        for method in NaturalScoreMethod.allCases {
            let scorer = try CandidateScorer(options: options(method), subset: images)
            let candidates = Candidate.all(blocks: network.spec.blocks.count, widenBy: 2)
            let report = try scorer.score(network, candidates: candidates)
            XCTAssertEqual(report.candidates.map(\.candidate), candidates)
            XCTAssertEqual(report.current, try scorer.score(network), "\(method): current model")
            let calibration = images.batch(Array(0..<images.count)[...]).0
            for scored in report.candidates {
                let grown = try scored.candidate.materialise(on: network, calibration: calibration,
                                                             options: scorer.options).network
                let reference = try scorer.score(grown)
                XCTAssertEqual(scored.score.parameters, reference.parameters)
                XCTAssertEqual(scored.deltaParameters, grown.parameterCount - network.parameterCount)
                XCTAssertEqual(scored.score.eta, reference.eta, accuracy: 1e-4 * reference.eta,
                               "\(method): \(scored.candidate)")
                XCTAssertNotEqual(scored.score.eta, report.current.eta, "\(method): \(scored.candidate) scored as the current model")
            }
        }
    }

    /// A scoring profile times the phases each method has, and changes no score.
    func testScoringProfileTimesEachMethodsPhasesAndChangesNoScore() throws {
        let (network, images) = try fixture()
        let candidates = Candidate.all(blocks: network.spec.blocks.count, widenBy: 2)
        for method in NaturalScoreMethod.allCases {
            let scorer = try CandidateScorer(options: options(method), subset: images)
            let profile = ScoringProfile()
            let start = DispatchTime.now().uptimeNanoseconds
            let profiled = try scorer.score(network, candidates: candidates, profile: profile)
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            XCTAssertEqual(profiled, try scorer.score(network, candidates: candidates), "\(method): the same scores")
            var phases: Set<ScoringPhase> = [.materialise, .forward, .backward, .convGradientMoments, .otherLayers, .solve]
            if method == .kfac { phases.formUnion([.convInputFactor, .convOutputFactor]) }
            XCTAssertEqual(Set(profile.seconds.keys), phases, "\(method)")
            for (phase, seconds) in profile.seconds { XCTAssertGreaterThan(seconds, 0, "\(method): \(phase)") }
            XCTAssertLessThanOrEqual(profile.totalSeconds, elapsed, "\(method): no phase is counted twice")
        }
    }

    func testRefusedCandidatesAreListedNotScored() throws {
        let (network, images) = try fixture()
        var options = options(.diag)
        options.limits = ExpansionLimits(maxLayersPerBlock: 2)
        let report = try CandidateScorer(options: options, subset: images)
            .score(network, candidates: [Candidate(block: 1, op: .layer), Candidate(block: 0, op: .layer)])
        XCTAssertEqual(report.candidates.map(\.candidate), [Candidate(block: 0, op: .layer)])
        XCTAssertEqual(report.refused.map(\.candidate), [Candidate(block: 1, op: .layer)])
        XCTAssertTrue(report.refused[0].reason.contains("block 1"), report.refused[0].reason)
    }
}

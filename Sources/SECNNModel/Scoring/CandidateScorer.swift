import SECNNCore

/// Computes natural expansion scores on a fixed subset of training images:
/// η of the current model and of every candidate expansion.
///
/// Batch norm runs in eval mode (running statistics) and dropout is off,
/// for three reasons: each example's gradient is then the gradient of its
/// own loss (batch statistics would couple the examples of a chunk, so the
/// "per-example" gradients, and with them the Fisher, would depend on how
/// the subset is chunked); the score describes the function the checkpoint
/// computes; and the identity-initialised candidates are exact there
/// (`addingLayer`). The loss is the cross-entropy alone: the L1 term is a
/// prior on the weights, not evidence from the data.
///
/// A candidate's score is by definition the score of the materialised
/// candidate model (`Candidate.materialise`, the same model a rule's
/// choice produces). The work shared with the current model is what the
/// maths leaves unchanged: the blocks in front of the one a candidate
/// grows, and for a new layer the block's layers before it. Per chunk, one
/// recorded forward pass of the current model gives every block boundary
/// and every block's features before its pool; a candidate on block b runs
/// its forward pass from boundary b only (a new layer's from block b's
/// features), and its backward pass continues into the shared prefix by
/// seeding the prefix graph with the gradients where it started.
/// The K-FAC input factors, which depend on a layer's inputs alone, are
/// computed once per chunk for every layer input the models share.
/// Candidates share unchanged tensors with the current model (copy on
/// write), so no candidate deep-copies the network.
///
/// With `processes` (a data-parallel run) each process accumulates its
/// share of the subset and the statistics are summed over the processes
/// before any score is computed, so every process gets the scores one
/// process would (the examples are independent: batch norm in eval mode).
public struct CandidateScorer: Sendable {
    public let options: ScoringOptions
    /// The images every score is computed on.
    public let subset: LabeledImages
    public let processes: (any Collective)?

    public init(options: ScoringOptions, subset: LabeledImages, processes: (any Collective)? = nil) throws {
        try options.validate()
        guard subset.count >= 1 else { throw ModelError.invalidConfiguration("scoring: the subset holds no images") }
        if let processes, subset.count < processes.size {
            throw ModelError.invalidConfiguration(
                "scoring: \(subset.count) images cannot be shared by \(processes.size) processes (--score-subset)")
        }
        self.options = options
        self.subset = subset
        self.processes = processes
    }

    /// Chooses the subset from `training` (`options.subsetSize` images by `options.seed`).
    public init(options: ScoringOptions, training: LabeledImages, processes: (any Collective)? = nil) throws {
        try self.init(options: options, subset: training.scoringSubset(count: options.subsetSize, seed: options.seed),
                      processes: processes)
    }

    /// η of `network` alone.
    public func score(_ network: SECNNNetwork<Float>) throws -> NaturalScore {
        var variants = [Variant(start: network.spec.blocks.count, network: network, settings: options.fisher)]
        accumulate(network, &variants)
        return try variants[0].score(examples: subset.count)
    }

    /// η of `network` and of each candidate; candidates the limits refuse
    /// are listed with the reason instead. `profile` times the work by phase.
    public func score(_ network: SECNNNetwork<Float>, candidates: [Candidate],
                      profile: ScoringProfile? = nil) throws -> ScoreReport {
        var variants = [Variant(start: network.spec.blocks.count, network: network, settings: options.fisher)]
        var scored: [Candidate] = [], refused: [RefusedCandidate] = []
        ScoringProfile.measure(profile, .materialise) {
            // Every new layer's batch-norm statistics from one forward pass over the subset.
            let lastLayerBlock = candidates.filter { $0.op == .layer && network.spec.blocks.indices.contains($0.block) }
                .map(\.block).max()
            let featureStatistics = lastLayerBlock.map { network.featureStatistics(images: calibrationImages, through: $0) }
                ?? []
            for candidate in candidates {
                do {
                    let grown = try candidate.materialise(on: network, featureStatistics: featureStatistics,
                                                          options: options).network
                    // A new layer comes last in its block: its model starts from the block's old features.
                    let firstLayer = candidate.op == .layer ? network.spec.blocks[candidate.block].layers : 0
                    variants.append(Variant(start: candidate.block, firstLayer: firstLayer, network: grown,
                                            settings: options.fisher))
                    scored.append(candidate)
                } catch {
                    refused.append(RefusedCandidate(candidate: candidate, reason: "\(error)"))
                }
            }
        }
        accumulate(network, &variants, profile: profile)
        let current = try variants[0].score(examples: subset.count, profile: profile)
        let scores = try zip(scored, variants.dropFirst()).map { candidate, variant in
            let score = try variant.score(examples: subset.count, profile: profile)
            return CandidateScore(candidate: candidate, score: score, deltaParameters: score.parameters - current.parameters)
        }
        return ScoreReport(method: options.fisher.method.rawValue, current: current, candidates: scores,
                           refused: refused)
    }

    /// The model `candidate` makes of `network`, exactly as this scorer
    /// scores it (its options' noise seed; a new layer calibrated on the subset).
    public func materialise(_ candidate: Candidate, on network: SECNNNetwork<Float>) throws
        -> (network: SECNNNetwork<Float>, expansion: Expansion) {
        try candidate.materialise(on: network, calibration: calibrationImages, options: options)
    }

    /// The images that set a new layer's batch-norm statistics: the subset.
    private var calibrationImages: Tensor<Float> { subset.batch(Array(0..<subset.count)[...]).0 }

    /// A model to score and where its forward pass starts: block boundary
    /// `start`, or with `firstLayer` > 0 the features of block `start`'s
    /// first `firstLayer` layers.
    private struct Variant {
        let start: Int, firstLayer: Int
        var network: SECNNNetwork<Float>
        var accumulator: NaturalScoreAccumulator

        init(start: Int, firstLayer: Int = 0, network: SECNNNetwork<Float>, settings: NaturalScoreSettings) {
            self.start = start
            self.firstLayer = firstLayer
            self.network = network
            accumulator = NaturalScoreAccumulator(settings: settings)
        }

        /// η over the `examples` images of the subset.
        func score(examples: Int, profile: ScoringProfile? = nil) throws -> NaturalScore {
            let (eta, effectiveParameters) = try accumulator.score(profile: profile)
            guard eta.isFinite else {
                throw ModelError.invalidConfiguration(
                    "scoring \(network.spec): η is \(eta); the model's gradients are not finite (has training diverged?)")
            }
            return NaturalScore(eta: eta, parameters: network.parameterCount, effectiveParameters: effectiveParameters,
                                examples: examples)
        }
    }

    /// Adds this process's share of the subset to every variant's
    /// statistics (all of it in one process), then sums the shares.
    private func accumulate(_ network: SECNNNetwork<Float>, _ variants: inout [Variant], profile: ScoringProfile? = nil) {
        let share = processes.map { BatchShard.range(rank: $0.rank, size: $0.size, total: subset.count) }
            ?? 0..<subset.count
        for first in stride(from: share.lowerBound, to: share.upperBound, by: options.chunkSize) {
            let (images, labels) = subset.batch((first..<min(first + options.chunkSize, share.upperBound)).map { $0 }[...])
            // Every per-example gradient of a mean loss over the chunk is 1/count of the example's own.
            let scale = Float(labels.count)
            let prefix = Graph<Float>(training: false)
            prefix.collectsPerExampleRecords = true
            prefix.computesParameterGradients = false
            var current = network
            let parameters = Self.parameters(of: current, on: prefix)
            var boundaries = [BlockBoundary(main: prefix.input(images), skip: nil)], features: [Variable] = []
            ScoringProfile.measure(profile, .forward) {
                for b in current.spec.blocks.indices {
                    features.append(current.forwardLayers(of: b, prefix, input: boundaries[b].main, parameters: parameters))
                    boundaries.append(current.pool(features[b], prefix, from: boundaries[b]))
                }
            }
            // Layers that see the same inputs in several models (the prefix, and a candidate's layers before its change).
            let sharedInputs = SharedInputFactors()
            for v in variants.indices {
                let (start, firstLayer) = (variants[v].start, variants[v].firstLayer)
                let boundary = boundaries[start]
                // The prefix tensor the suffix starts from; the images need no gradient.
                let (prefixMain, mainNeedsGradient) = firstLayer > 0 ? (features[start], true)
                                                                     : (boundary.main, boundary.skip != nil)
                let suffix = Graph<Float>(training: false)
                suffix.collectsPerExampleRecords = true
                suffix.computesParameterGradients = false
                let main = suffix.input(prefix.value(prefixMain), differentiable: mainNeedsGradient)
                let skip = boundary.skip.map { suffix.input(prefix.value($0), differentiable: true) }
                var state = BlockBoundary(main: main, skip: skip)
                let suffixParameters = Self.parameters(of: variants[v].network, on: suffix)
                let loss = ScoringProfile.measure(profile, .forward) {
                    for b in start..<variants[v].network.spec.blocks.count {
                        state = variants[v].network.forwardBlock(b, suffix, from: state, parameters: suffixParameters,
                                                                 firstLayer: b == start ? firstLayer : 0)
                    }
                    let logits = variants[v].network.forwardHead(suffix, from: state, parameters: suffixParameters)
                    return suffix.crossEntropy(logits, labels: labels)
                }
                ScoringProfile.measure(profile, .backward) { suffix.backward(from: loss) }
                for record in suffix.perExampleRecords {
                    variants[v].accumulator.accumulate(record, scale: scale, sharing: sharedInputs, profile: profile)
                }
                var seeds = mainNeedsGradient ? [(prefixMain, suffix.gradient(main)!)] : []
                if let prefixSkip = boundary.skip, let skip { seeds.append((prefixSkip, suffix.gradient(skip)!)) }
                guard !seeds.isEmpty else { continue }
                ScoringProfile.measure(profile, .backward) { prefix.backward(seeds: seeds) }
                for record in prefix.perExampleRecords {
                    variants[v].accumulator.accumulate(record, scale: scale, sharing: sharedInputs, profile: profile)
                }
            }
        }
        if let processes {
            for v in variants.indices { variants[v].accumulator.sum(over: processes) }
        }
    }

    private static func parameters(of network: SECNNNetwork<Float>, on graph: Graph<Float>) -> [String: Variable] {
        var parameters: [String: Variable] = [:]
        for path in network.parameterPaths { parameters[path] = graph.parameter(network.state.tensor(path), path: path) }
        return parameters
    }
}

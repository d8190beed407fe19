import SECNNCore

extension Candidate {
    /// The model this expansion makes of `network`. The noise of the new
    /// weights comes from a generator derived from the options' seed, the
    /// block and the op, so the model a candidate was scored as and the one
    /// a rule's choice produces are the same. `calibration` images set a
    /// new layer's batch-norm statistics.
    public func materialise(
        on network: SECNNNetwork<Float>, calibration: Tensor<Float>, options: ScoringOptions
    ) throws -> (network: SECNNNetwork<Float>, expansion: Expansion) {
        try materialise(on: network, options: options) { generator in
            try network.addingLayer(toBlock: block, calibration: calibration, noise: options.noise,
                                    limits: options.limits, generator: &generator)
        }
    }

    /// The same model, from the calibration images' feature statistics of
    /// every block up to this one (`SECNNNetwork.featureStatistics(images:through:)`),
    /// which a caller materialising several candidates computes once.
    func materialise(
        on network: SECNNNetwork<Float>, featureStatistics: [BlockFeatureStatistics], options: ScoringOptions
    ) throws -> (network: SECNNNetwork<Float>, expansion: Expansion) {
        try materialise(on: network, options: options) { generator in
            try network.validateExpansion(.layer, block: block, noise: options.noise)  // before indexing by the block
            precondition(featureStatistics.indices.contains(block), "materialise: no feature statistics of block \(block)")
            return try network.addingLayer(toBlock: block, featureStatistics: featureStatistics[block],
                                           noise: options.noise, limits: options.limits, generator: &generator)
        }
    }

    private func materialise(
        on network: SECNNNetwork<Float>, options: ScoringOptions,
        addingLayer: (inout SeededGenerator) throws -> (network: SECNNNetwork<Float>, expansion: Expansion)
    ) throws -> (network: SECNNNetwork<Float>, expansion: Expansion) {
        try options.limits.check(self, growing: network.spec)
        var generator = SeededGenerator(seed: options.seed).derived(UInt64(1_000 + 2 * block + (op == .widen ? 1 : 0)))
        switch op {
        case .layer:
            return try addingLayer(&generator)
        case .widen:
            return try network.widening(block: block, by: channels, noise: options.noise, limits: options.limits,
                                        generator: &generator)
        }
    }
}

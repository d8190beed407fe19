import SECNNCore

extension SECNNNetwork {
    /// The network with a conv layer appended to block `block`, initialised
    /// to change the eval-mode function as little as possible.
    ///
    /// The new layer is conv3x3 (no bias) → BN → LeakyReLU(0.2), at paths
    /// `ParameterPath.conv(block, L)` / `batchNorm(block, L)` with L the old
    /// layer count (no existing path moves). Let x be block `block`'s output
    /// before its pool, and μ_c, σ²_c its per-channel mean and biased
    /// variance, in eval mode, over `calibration` (N, C, H, W images as the
    /// network takes them; a batch or two of training images is enough).
    ///
    /// - conv: weight[o][c][1][1] = δ_oc, all other taps 0, plus N(0, noise²)
    ///   on every tap: conv(x) = x + O(noise), exactly x at noise 0 (the
    ///   centre tap reads the pixel itself, so the zero padding never enters).
    /// - BN: running mean μ, running variance σ², γ = √(σ² + ε), β = μ, so
    ///   in eval mode BN(y) = (y − μ)/√(σ² + ε)·γ + β = y, up to rounding.
    ///   (In train mode it normalises with the batch's statistics, which the
    ///   calibration statistics approximate.)
    /// - LeakyReLU: the approximate part. x is itself a LeakyReLU output, so
    ///   x ≥ 0 passes unchanged, but a negative x = 0.2·z becomes 0.04·z:
    ///   the block's negative outputs shrink five-fold; nothing else changes.
    ///
    /// The noise (drawn from `generator`, weight by weight in row-major
    /// order) breaks the symmetry between the new layer's output channels.
    /// Throws `ModelError.invalidExpansion` for a bad block, noise or
    /// calibration shape, or a block at `limits.maxLayersPerBlock`.
    public func addingLayer(
        toBlock block: Int, calibration: Tensor<T>, noise: Double = 1e-4, limits: ExpansionLimits = .init(),
        generator: inout SeededGenerator
    ) throws -> (network: SECNNNetwork<T>, expansion: Expansion) {
        try validateExpansion(.layer, block: block, noise: noise)
        let imageShape = [spec.inputChannels, spec.inputHeight, spec.inputWidth]
        guard calibration.shape.count == 4, calibration.shape[0] >= 1, Array(calibration.shape.dropFirst()) == imageShape else {
            throw ModelError.invalidExpansion("cannot add a layer to block \(block): calibration images have shape "
                                              + "\(calibration.shape), expected [N, \(imageShape.map(String.init).joined(separator: ", "))] with N ≥ 1")
        }
        return try addingLayer(toBlock: block, featureStatistics: featureStatistics(images: calibration, through: block)[block],
                               noise: noise, limits: limits, generator: &generator)
    }

    /// `addingLayer(toBlock:calibration:…)` with block `block`'s feature
    /// statistics already computed (`featureStatistics(images:through:)`),
    /// as a caller adding layers to several blocks of one network computes
    /// them for all in one pass.
    public func addingLayer(
        toBlock block: Int, featureStatistics statistics: BlockFeatureStatistics, noise: Double = 1e-4,
        limits: ExpansionLimits = .init(), generator: inout SeededGenerator
    ) throws -> (network: SECNNNetwork<T>, expansion: Expansion) {
        try validateExpansion(.layer, block: block, noise: noise)
        let (layers, channels) = (spec.blocks[block].layers, spec.blocks[block].channels)
        guard layers < limits.maxLayersPerBlock else {
            throw ModelError.invalidExpansion("cannot add a layer to block \(block): it has \(layers) layers, "
                                              + "the limit (maxLayersPerBlock) is \(limits.maxLayersPerBlock)")
        }
        guard statistics.mean.count == channels, statistics.variance.count == channels else {
            throw ModelError.invalidExpansion("cannot add a layer to block \(block): feature statistics of "
                                              + "\(statistics.mean.count) channels for a block of \(channels)")
        }
        let (mean, variance) = (statistics.mean, statistics.variance)

        var weight: [T] = []
        weight.reserveCapacity(channels * channels * 9)
        for o in 0..<channels {
            for c in 0..<channels {
                for tap in 0..<9 { weight.append((o == c && tap == 4 ? 1 : 0) + T(noise * generator.nextNormal())) }
            }
        }
        let epsilon = batchNormEpsilon
        let conv = ParameterPath.conv(block, layers), bn = ParameterPath.batchNorm(block, layers)
        var edit = StateEdit(self)
        edit.add("\(conv).weight", Tensor(shape: [channels, channels, 3, 3], scalars: weight))
        edit.add("\(bn).weight", Tensor(shape: [channels], scalars: variance.map { T(($0 + epsilon).squareRoot()) }))
        edit.add("\(bn).bias", Tensor(shape: [channels], scalars: mean.map { T($0) }))
        edit.add("\(bn).running_mean", Tensor(shape: [channels], scalars: mean.map { T($0) }))
        edit.add("\(bn).running_var", Tensor(shape: [channels], scalars: variance.map { T($0) }))
        var architecture = spec
        architecture.blocks[block].layers += 1
        return try edit.finish(.layer, block: block, channelsAdded: 0, architecture: architecture)
    }

    /// Per-channel mean and biased variance of each block's output before
    /// its pool, blocks 0 through `last`, in eval mode, over `images`: one
    /// forward pass (accumulated in Double, the channels split across threads).
    public func featureStatistics(images: Tensor<T>, through last: Int) -> [BlockFeatureStatistics] {
        precondition(spec.blocks.indices.contains(last), "featureStatistics: no block \(last) in \(spec)")
        var network = self
        let graph = Graph<T>.inference()
        var parameters: [String: Variable] = [:]
        for path in parameterPaths { parameters[path] = graph.parameter(state.tensor(path), path: path) }
        var boundary = BlockBoundary(main: graph.input(images), skip: nil), statistics: [BlockFeatureStatistics] = []
        for block in 0...last {
            let features = network.forwardLayers(of: block, graph, input: boundary.main, parameters: parameters)
            statistics.append(BlockFeatureStatistics(graph.value(features)))
            if block < last { boundary = network.pool(features, graph, from: boundary) }
        }
        return statistics
    }
}

/// Per-channel mean and biased variance of a block's features (N, C, H, W).
public struct BlockFeatureStatistics: Sendable, Equatable {
    public var mean: [Double], variance: [Double]

    init<T: TensorScalar>(_ features: Tensor<T>) {
        let (count, channels) = (features.shape[0], features.shape[1])
        let spatial = features.shape.dropFirst(2).reduce(1, *)
        var mean = [Double](repeating: 0, count: channels), variance = mean
        features.withPointer { values in
            mean.withUnsafeMutableBufferPointer { mean in
                variance.withUnsafeMutableBufferPointer { variance in
                    parallelChunks(channels) { _, range in
                        for c in range {
                            var sum = 0.0
                            for n in 0..<count { for i in 0..<spatial { sum += Double(values[(n * channels + c) * spatial + i]) } }
                            mean[c] = sum / Double(count * spatial)
                            var squares = 0.0
                            for n in 0..<count {
                                for i in 0..<spatial {
                                    let d = Double(values[(n * channels + c) * spatial + i]) - mean[c]
                                    squares += d * d
                                }
                            }
                            variance[c] = squares / Double(count * spatial)
                        }
                    }
                }
            }
        }
        self.mean = mean
        self.variance = variance
    }
}

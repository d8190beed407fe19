import SECNNCore

extension SECNNNetwork {
    /// The network with `count` more channels in block `block`, appended at
    /// the end of the block's channel range, initialised so the eval-mode
    /// function changes only at second order in `noise`.
    ///
    /// - Every conv of the block gets `count` output channels with weights
    ///   N(0, noise²); convs after the first also get `count` input channels
    ///   (new incoming weights N(0, noise²)). The first conv's new bias
    ///   entries are 0: a new channel's pre-activation is then O(noise), and
    ///   the following BN (running mean 0, variance 1) and LeakyReLU keep it
    ///   O(noise); a random bias would give it an O(1) output that the
    ///   consumers' O(noise) weights turn into an O(noise) change. (In train
    ///   mode the bias is cancelled by BN's batch mean anyway.)
    /// - The block's BNs keep their old γ, β and running statistics; new
    ///   channels get γ 1, β 0, running mean 0, running variance 1.
    /// - The consumers read the new channels through new weights
    ///   N(0, noise²): the next block's first conv, and the head's mix conv
    ///   when `block` feeds it. Its input is concat(last block, block 0 via
    ///   the skip path), so widening the last block inserts after the old
    ///   last-block channels (before the skip channels), widening block 0
    ///   appends after the skip channels.
    ///
    /// So every old activation changes by O(noise²) (new channels of size
    /// O(noise) through weights of size O(noise)). Noise is drawn from
    /// `generator` tensor by tensor in state-dict order, row-major within
    /// each. Throws `ModelError.invalidExpansion` for a bad block, count or
    /// noise, or a block that would pass `limits.maxChannelsPerBlock`.
    public func widening(
        block: Int, by count: Int, noise: Double = 1e-4, limits: ExpansionLimits = .init(),
        generator: inout SeededGenerator
    ) throws -> (network: SECNNNetwork<T>, expansion: Expansion) {
        try validateExpansion(.widen, block: block, noise: noise)
        let channels = spec.blocks[block].channels
        guard count >= 1 else {
            throw ModelError.invalidExpansion("cannot widen block \(block) by \(count) channels: the count must be at least 1")
        }
        if let maximum = limits.maxChannelsPerBlock, channels + count > maximum {
            throw ModelError.invalidExpansion("cannot widen block \(block) by \(count) channels: it has \(channels), "
                                              + "the limit (maxChannelsPerBlock) is \(maximum)")
        }
        func draw() -> T { T(noise * generator.nextNormal()) }
        let outputs = TensorGrowth.Insertion(axis: 0, at: channels, count: count)
        let inputs = TensorGrowth.Insertion(axis: 1, at: channels, count: count)

        var edit = StateEdit(self)
        for layer in 0..<spec.blocks[block].layers {
            let conv = ParameterPath.conv(block, layer), bn = ParameterPath.batchNorm(block, layer)
            edit.grow("\(conv).weight", layer == 0 ? [outputs] : [outputs, inputs], fill: draw)
            if layer == 0 { edit.grow("\(conv).bias", [outputs]) { 0 } }
            edit.grow("\(bn).weight", [outputs]) { 1 }
            edit.grow("\(bn).bias", [outputs]) { 0 }
            edit.grow("\(bn).running_mean", [outputs]) { 0 }
            edit.grow("\(bn).running_var", [outputs]) { 1 }
        }
        if block + 1 < spec.blocks.count { edit.grow("\(ParameterPath.conv(block + 1, 0)).weight", [inputs], fill: draw) }
        let mix = "\(ParameterPath.mix).weight"
        if block == spec.blocks.count - 1 { edit.grow(mix, [inputs], fill: draw) }
        if block == 0 { edit.grow(mix, [TensorGrowth.Insertion(axis: 1, at: spec.headChannels, count: count)], fill: draw) }

        var architecture = spec
        architecture.blocks[block].channels += count
        return try edit.finish(.widen, block: block, channelsAdded: count, architecture: architecture)
    }
}

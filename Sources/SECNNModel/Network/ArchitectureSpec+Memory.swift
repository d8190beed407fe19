extension ArchitectureSpec {
    /// An estimate, in bytes, of what one training step of this architecture
    /// holds at its peak with `batchSize` images: what growth bounds are
    /// checked against (`ExpansionLimits.maxTrainingMemory`).
    ///
    /// Per image, the maps the forward pass keeps for the backward pass: the
    /// input; in each block the first layer's conv output, dropout output and
    /// mask, batch-norm output and activation (5 maps of the block's
    /// channels), 2 for every later layer (whose batch norm and activation
    /// run fused), and the pooled map. The backward pass frees them as it
    /// goes, so its gradients do not add a second copy. Besides, 8 copies of
    /// the parameters: weights, gradients, Adam's two moments, and the
    /// checkpoints a growth run keeps (best, best of the size, last, the
    /// chosen candidate). The head's maps are a few hundred numbers and are
    /// left out; scoring works in chunks smaller than a batch.
    ///
    /// Against the peak resident memory of one digits epoch at batch 512
    /// (less the start model's), it came out at 1.0× for `528x1,16x1,16x1`
    /// and `1040x1,16x1,16x1`, 1.2× for `256x3,16x1,16x1` and 1.7× for
    /// `128x4,128x4,128x4`: it errs on the side of refusing.
    public func trainingMemoryEstimate(batchSize: Int) -> Int {
        var kept = inputChannels * inputHeight * inputWidth
        for (b, block) in blocks.enumerated() {
            let pixels = (inputHeight >> b) * (inputWidth >> b)
            kept += (5 + 2 * (block.layers - 1)) * block.channels * pixels + block.channels * (pixels / 4)
        }
        return MemoryLayout<Float>.size * (kept * batchSize + 8 * parameterCount)
    }
}

extension ArchitectureSpec {
    /// Multiply-adds one image costs at inference: every conv's and linear
    /// layer's products, the usual "FLOPs" of model-size tables (one
    /// multiply-add counted once). Batch norm folds into the convs before
    /// deployment and LeakyReLU, pooling and the skip path's concatenation
    /// multiply nothing, so they are not counted.
    ///
    /// Block b works on maps halved b times, so a layer on the first block
    /// of a 32×32 network costs 16× one on the third for the same parameters.
    /// `16x1,16x1,16x1` on 32×32×3 costs 1,188,168.
    public var multiplyAdds: Int {
        var total = 0
        var inputs = inputChannels
        for (b, block) in blocks.enumerated() {
            let pixels = (inputHeight >> b) * (inputWidth >> b)
            let firstLayer = block.channels * inputs * 9
            let laterLayers = (block.layers - 1) * block.channels * block.channels * 9
            total += (firstLayer + laterLayers) * pixels
            inputs = block.channels
        }
        let headPixels = headHeight * headWidth
        total += classes * headChannels * headPixels                    // 1×1 mix conv
        total += Self.hidden * classes * headPixels + classes * Self.hidden  // fc1, fc2
        return total
    }
}

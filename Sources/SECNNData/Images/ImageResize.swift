extension DecodedImage {
    /// The image as `channels` planes of height×width floats in [0, 1]
    /// (channel-major, as the network reads them), resized bilinearly with
    /// pixel centres aligned (PyTorch's `align_corners=False`, without
    /// antialiasing); a greyscale image asked for 3 channels repeats its one,
    /// a colour image asked for 1 becomes its luma (ITU-R BT.601).
    public func planes(height: Int, width: Int, channels: Int) -> [Float] {
        precondition(channels == 1 || channels == 3, "planes: \(channels) channels; expected 1 or 3")
        if channels == 1, self.channels == 3 { return greyscale().planes(height: height, width: width, channels: 1) }
        var output = [Float](repeating: 0, count: channels * height * width)
        let rows = (0 ..< height).map { Self.sample($0, from: self.height, to: height) }
        let columns = (0 ..< width).map { Self.sample($0, from: self.width, to: width) }
        output.withUnsafeMutableBufferPointer { out in
            for c in 0 ..< channels {
                let source = self.channels == 1 ? 0 : c
                for (y, row) in rows.enumerated() {
                    for (x, column) in columns.enumerated() {
                        func pixel(_ r: Int, _ q: Int) -> Float { Float(pixels[(r * self.width + q) * self.channels + source]) }
                        let top = pixel(row.low, column.low) * (1 - column.weight) + pixel(row.low, column.high) * column.weight
                        let bottom = pixel(row.high, column.low) * (1 - column.weight)
                            + pixel(row.high, column.high) * column.weight
                        // Divided, not multiplied by 1/255: an unresized image gets the very values of the
                        // other loaders (convertBytes).
                        out[(c * height + y) * width + x] = (top * (1 - row.weight) + bottom * row.weight) / 255
                    }
                }
            }
        }
        return output
    }

    /// The image's luma, 0.299·R + 0.587·G + 0.114·B, rounded.
    func greyscale() -> DecodedImage {
        let grey = (0 ..< width * height).map { i -> UInt8 in
            let (r, g, b) = (Float(pixels[3 * i]), Float(pixels[3 * i + 1]), Float(pixels[3 * i + 2]))
            return UInt8((0.299 * r + 0.587 * g + 0.114 * b).rounded())
        }
        return DecodedImage(width: width, height: height, channels: 1, pixels: grey)
    }

    /// Where output index `i` of `outputs` samples an axis of `inputs`: the
    /// two neighbours and the weight of the upper one.
    private static func sample(_ i: Int, from inputs: Int, to outputs: Int) -> (low: Int, high: Int, weight: Float) {
        let position = max(0, (Double(i) + 0.5) * Double(inputs) / Double(outputs) - 0.5)
        let low = min(Int(position), inputs - 1)
        return (low, min(low + 1, inputs - 1), Float(position - Double(low)))
    }
}

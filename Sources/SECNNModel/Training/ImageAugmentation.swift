import SECNNCore

/// How one training image is altered on its way into a batch: mirrored
/// left–right when `flip`, then shifted `dx` pixels right and `dy` down with
/// the uncovered border 0 (the training mean, once normalised). A shift of
/// up to `pad` each way is a random crop of the image zero-padded by `pad`.
public struct ImageAugmentation: Equatable, Sendable {
    public var flip: Bool
    public var dx: Int
    public var dy: Int

    public init(flip: Bool = false, dx: Int = 0, dy: Int = 0) {
        self.flip = flip
        self.dx = dx
        self.dy = dy
    }

    public static let identity = ImageAugmentation()

    /// A flip with probability ½ (when `flips`), then, when `padding` > 0,
    /// dx and dy uniform in -padding...padding, in that order from
    /// `generator`. Without padding it draws exactly what flips alone always
    /// drew, so runs without crops keep their bits.
    public static func random(flips: Bool, padding: Int, using generator: inout SeededGenerator) -> ImageAugmentation {
        var augmentation = ImageAugmentation.identity
        if flips { augmentation.flip = generator.nextUnit() < 0.5 }
        if padding > 0 {
            // Our own integer draw rather than Int.random(in:using:), whose algorithm the standard library may change.
            let choices = Double(2 * padding + 1)
            augmentation.dx = Int(generator.nextUnit() * choices) - padding
            augmentation.dy = Int(generator.nextUnit() * choices) - padding
        }
        return augmentation
    }

    /// Writes the augmented image (C, H, W) at `source` to `destination`:
    /// destination(c, y, x) = source(c, y − dy, x′) with x′ = x − dx, or
    /// W − 1 − (x − dx) when flipping; 0 where that falls outside the image.
    func apply(_ source: UnsafePointer<Float>, to destination: UnsafeMutablePointer<Float>,
               channels: Int, height: Int, width: Int) {
        // The output columns first..<end have a source column.
        let first = max(0, dx), end = min(width, width + dx)
        for row in 0..<(channels * height) {
            let out = destination + row * width, y = row % height
            let sourceY = y - dy
            guard sourceY >= 0, sourceY < height, first < end else {
                out.update(repeating: 0, count: width)
                continue
            }
            let input = source + (row - y + sourceY) * width  // row − y: the channel's first row
            out.update(repeating: 0, count: first)
            if flip {
                for x in first..<end { out[x] = input[width - 1 - (x - dx)] }
            } else {
                (out + first).update(from: input + (first - dx), count: end - first)
            }
            (out + end).update(repeating: 0, count: width - end)
        }
    }
}

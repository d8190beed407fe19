import SECNNData

/// Per-channel normalisation, x ↦ (x − mean)/std, with the statistics of the
/// training images. Stored in every checkpoint so evaluation sees the same inputs.
public struct Normalization: Codable, Equatable, Sendable {
    public var mean: [Float]
    public var std: [Float]

    public init(mean: [Float], std: [Float]) {
        self.mean = mean
        self.std = std
    }

    /// Mean and (population) standard deviation of each channel over `indices` of `dataset`.
    public init(of dataset: Dataset, indices: [Int]) {
        let pixels = dataset.height * dataset.width
        var sums = [Double](repeating: 0, count: dataset.channels)
        var squares = [Double](repeating: 0, count: dataset.channels)
        dataset.images.withUnsafeBufferPointer { images in
            for index in indices {
                for c in 0..<dataset.channels {
                    let start = index * dataset.imageSize + c * pixels
                    var sum = 0.0, square = 0.0
                    for i in start..<(start + pixels) { let v = Double(images[i]); sum += v; square += v * v }
                    sums[c] += sum
                    squares[c] += square
                }
            }
        }
        let count = Double(max(1, indices.count * pixels))
        mean = sums.map { Float($0 / count) }
        std = zip(sums, squares).map { sum, square in
            let variance = max(0, square / count - (sum / count) * (sum / count))
            return Float(max(variance.squareRoot(), 1e-6))
        }
    }

    /// The normalised images of `dataset`, in its order.
    public func apply(to dataset: Dataset) -> [Float] {
        let pixels = dataset.height * dataset.width
        var output = dataset.images
        output.withUnsafeMutableBufferPointer { values in
            for n in 0..<dataset.count {
                for c in 0..<dataset.channels {
                    let start = n * dataset.imageSize + c * pixels
                    let (m, s) = (mean[c], 1 / std[c])
                    for i in start..<(start + pixels) { values[i] = (values[i] - m) * s }
                }
            }
        }
        return output
    }
}

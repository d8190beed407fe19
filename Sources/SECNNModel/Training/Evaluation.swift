import SECNNCore

/// Images prepared for the network: normalised, NCHW, with their labels.
public struct LabeledImages: Sendable {
    public var images: [Float]
    public var labels: [Int32]
    public var channels: Int, height: Int, width: Int

    public init(images: [Float], labels: [Int32], channels: Int, height: Int, width: Int) {
        precondition(images.count == labels.count * channels * height * width,
                     "LabeledImages: \(images.count) values for \(labels.count) images of \(channels)x\(height)x\(width)")
        self.images = images
        self.labels = labels
        self.channels = channels
        self.height = height
        self.width = width
    }

    public var count: Int { labels.count }
    public var imageSize: Int { channels * height * width }

    /// The images at `indices` as one batch tensor, the i-th altered by
    /// `augmentations[i]` (none when nil).
    public func batch(_ indices: ArraySlice<Int>,
                      augmentations: [ImageAugmentation]? = nil) -> (Tensor<Float>, [Int32]) {
        let size = imageSize
        let tensor = Tensor<Float>(shape: [indices.count, channels, height, width]) { out in
            images.withUnsafeBufferPointer { source in
                for (slot, index) in indices.enumerated() {
                    let src = source.baseAddress! + index * size, dst = out + slot * size
                    if let augmentation = augmentations?[slot], augmentation != .identity {
                        augmentation.apply(src, to: dst, channels: channels, height: height, width: width)
                    } else {
                        dst.update(from: src, count: size)
                    }
                }
            }
        }
        return (tensor, indices.map { labels[$0] })
    }
}

/// Loss and accuracy of a network, in eval mode.
public struct EvaluationResult: Sendable, Equatable {
    public var loss: Double
    public var accuracy: Double
    public var count: Int
}

extension SECNNNetwork where T == Float {
    /// Mean cross-entropy and accuracy over `data`, in eval mode (batch norm
    /// on running statistics, no dropout), `batchSize` images at a time.
    ///
    /// With `processes` each process evaluates every size-th batch (from its
    /// rank on) and the sums are summed: every process gets the result.
    public func evaluate(_ data: LabeledImages, batchSize: Int = 512, processes: (any Collective)? = nil) -> EvaluationResult {
        var network = self
        var totalLoss = 0.0, correct = 0
        let order = Array(0..<data.count)
        let (first, step) = processes.map { ($0.rank * batchSize, $0.size * batchSize) } ?? (0, batchSize)
        for start in stride(from: first, to: data.count, by: step) {
            let indices = order[start..<min(start + batchSize, data.count)]
            let (images, labels) = data.batch(indices)
            let graph = Graph<Float>.inference()
            let logits = network.forward(graph, images: images).logits
            totalLoss += Double(graph.value(graph.crossEntropy(logits, labels: labels)).scalars[0]) * Double(indices.count)
            correct += countCorrect(graph.value(logits), labels)
        }
        if let processes {
            var sums = [totalLoss, Double(correct)]
            processes.sum(&sums)
            (totalLoss, correct) = (sums[0], Int(sums[1]))
        }
        return EvaluationResult(loss: totalLoss / Double(max(1, data.count)),
                                accuracy: Double(correct) / Double(max(1, data.count)), count: data.count)
    }
}

/// How many rows of `logits` (N, K) have their largest value at the label.
func countCorrect(_ logits: Tensor<Float>, _ labels: [Int32]) -> Int {
    let classes = logits.shape[1]
    var correct = 0
    for (n, label) in labels.enumerated() {
        let row = logits.scalars[(n * classes)..<((n + 1) * classes)]
        if row.indices.max(by: { row[$0] < row[$1] })! - n * classes == Int(label) { correct += 1 }
    }
    return correct
}

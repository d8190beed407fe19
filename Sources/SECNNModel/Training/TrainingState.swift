import SECNNCore

/// The figures of one finished epoch.
///
/// The wall-clock figures (`seconds`, `imagesPerSecond`) measure the machine,
/// not the run: they are not encoded (they decode as 0), so a checkpoint's
/// history, and with it the whole file, is the same for the same seed.
/// `multiplyAdds` is not encoded either: the architecture gives it, and
/// checkpoints written before it existed stay byte-identical.
public struct EpochMetrics: Codable, Equatable, Sendable {
    public var epoch: Int
    public var trainLoss: Double
    public var trainAccuracy: Double
    public var validationLoss: Double
    public var validationAccuracy: Double
    public var learningRate: Double
    public var parameters: Int
    /// Multiply-adds per image at inference (`ArchitectureSpec.multiplyAdds`) of the model that finished the epoch.
    public var multiplyAdds: Int = 0
    public var seconds: Double = 0
    public var imagesPerSecond: Double = 0

    public init(epoch: Int, trainLoss: Double, trainAccuracy: Double, validationLoss: Double,
                validationAccuracy: Double, learningRate: Double, parameters: Int, multiplyAdds: Int = 0,
                seconds: Double = 0, imagesPerSecond: Double = 0) {
        self.epoch = epoch
        self.trainLoss = trainLoss
        self.trainAccuracy = trainAccuracy
        self.validationLoss = validationLoss
        self.validationAccuracy = validationAccuracy
        self.learningRate = learningRate
        self.parameters = parameters
        self.multiplyAdds = multiplyAdds
        self.seconds = seconds
        self.imagesPerSecond = imagesPerSecond
    }

    private enum CodingKeys: String, CodingKey {
        case epoch, trainLoss, trainAccuracy, validationLoss, validationAccuracy, learningRate, parameters
    }
}

/// Everything besides the weights and the optimizer that a run needs to
/// continue exactly where it stopped.
public struct TrainingState: Codable, Equatable, Sendable {
    /// Epochs completed.
    public var epoch: Int = 0
    public var learningRate: Double
    public var bestValidationAccuracy: Double = -1
    public var bestEpoch: Int = 0
    public var epochsWithoutImprovement: Int = 0
    /// Streams for the data order, the flips and the dropout masks.
    public var shuffleGenerator: SeededGenerator
    public var augmentGenerator: SeededGenerator
    public var dropoutGenerator: SeededGenerator
    public var history: [EpochMetrics] = []
    /// Where an interrupted epoch stopped (nil between epochs).
    public var progress: EpochProgress?

    public init(learningRate: Double, seed: UInt64) {
        self.learningRate = learningRate
        let root = SeededGenerator(seed: seed)
        shuffleGenerator = root.derived(3)
        augmentGenerator = root.derived(4)
        dropoutGenerator = root.derived(5)
    }

    /// Records a validation result; halves the rate after `patience` epochs
    /// without a new best. Returns whether this epoch is the new best.
    public mutating func observe(validationAccuracy: Double, patience: Int) -> Bool {
        if validationAccuracy > bestValidationAccuracy {
            bestValidationAccuracy = validationAccuracy
            bestEpoch = epoch
            epochsWithoutImprovement = 0
            return true
        }
        epochsWithoutImprovement += 1
        if epochsWithoutImprovement >= patience {
            learningRate /= 2
            epochsWithoutImprovement = 0
        }
        return false
    }
}

/// How far an interrupted epoch got: enough to finish it exactly as it
/// would have gone uninterrupted.
public struct EpochProgress: Codable, Equatable, Sendable {
    /// The shuffle stream as the epoch began; the epoch's order is drawn
    /// from it again on resume.
    public var orderGenerator: SeededGenerator
    /// Optimisation steps done.
    public var step: Int = 0
    /// The epoch's running sums: cross-entropy × images, right predictions, images.
    public var lossSum = 0.0
    public var correct = 0
    public var seen = 0

    public init(orderGenerator: SeededGenerator) {
        self.orderGenerator = orderGenerator
    }
}

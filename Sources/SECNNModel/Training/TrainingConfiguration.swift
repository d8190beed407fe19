/// Where the validation data comes from.
public enum ValidationSource: Codable, Equatable, Sendable, CustomStringConvertible {
    /// A seeded fraction of the training set, held out (the default: 10%).
    case split(fraction: Double)
    /// The test set itself, as the paper's protocol does.
    case testSet

    public var description: String {
        switch self {
        case .split(let fraction): return "split(\(fraction))"
        case .testSet: return "test"
        }
    }
}

/// The training recipe. Defaults are the paper's: batch 512, Adam at 2e-3
/// halved after 15 epochs without validation improvement, L1 1e-5, no crops,
/// no label smoothing.
public struct TrainingConfiguration: Codable, Equatable, Sendable {
    public var epochs: Int = 30
    public var batchSize: Int = 512
    public var learningRate: Double = 2e-3
    /// Epochs without a new best validation accuracy before the rate halves.
    public var patience: Int = 15
    public var l1: Double = 1e-5
    public var seed: UInt64 = 0
    public var validation: ValidationSource = .split(fraction: 0.1)
    /// Random horizontal flips (only for data where they make sense: CIFAR-10, Fashion-MNIST).
    public var flips: Bool = true
    /// Random crops: each training image shifted by up to this many pixels
    /// each way, the uncovered border 0 (the training mean once normalised).
    public var cropPadding: Int = 0
    /// ε of the label-smoothed training targets (1−ε)·onehot + ε/K.
    public var labelSmoothing: Double = 0
    /// How the rate moves: the paper's halving on plateaus, or cosine annealing.
    public var schedule: LearningRateSchedule = .plateau

    public init() {}

    /// Configurations written before crops, label smoothing and schedules
    /// lack their keys; they decode with the defaults, which reproduce those runs.
    public init(from decoder: Decoder) throws {
        self.init()
        let container = try decoder.container(keyedBy: CodingKeys.self)
        epochs = try container.decode(Int.self, forKey: .epochs)
        batchSize = try container.decode(Int.self, forKey: .batchSize)
        learningRate = try container.decode(Double.self, forKey: .learningRate)
        patience = try container.decode(Int.self, forKey: .patience)
        l1 = try container.decode(Double.self, forKey: .l1)
        seed = try container.decode(UInt64.self, forKey: .seed)
        validation = try container.decode(ValidationSource.self, forKey: .validation)
        flips = try container.decode(Bool.self, forKey: .flips)
        cropPadding = try container.decodeIfPresent(Int.self, forKey: .cropPadding) ?? cropPadding
        labelSmoothing = try container.decodeIfPresent(Double.self, forKey: .labelSmoothing) ?? labelSmoothing
        schedule = try container.decodeIfPresent(LearningRateSchedule.self, forKey: .schedule) ?? schedule
    }

    public func validate() throws {
        guard epochs >= 1 else { throw ModelError.invalidConfiguration("epochs must be at least 1, not \(epochs)") }
        guard batchSize >= 2 else {
            throw ModelError.invalidConfiguration("batch size must be at least 2 (batch norm needs 2 examples), not \(batchSize)")
        }
        guard learningRate > 0, learningRate.isFinite else {
            throw ModelError.invalidConfiguration("learning rate must be positive, not \(learningRate)")
        }
        if case .split(let fraction) = validation, !(fraction > 0 && fraction < 1) {
            throw ModelError.invalidConfiguration("validation fraction must be between 0 and 1, not \(fraction)")
        }
        // The image side is not known here; 16 (half a 32×32 image) is a generous bound.
        guard (0...16).contains(cropPadding) else {
            throw ModelError.invalidConfiguration("cropPadding must be between 0 and 16 pixels, not \(cropPadding)")
        }
        guard labelSmoothing >= 0, labelSmoothing < 1 else {
            throw ModelError.invalidConfiguration("labelSmoothing must be in [0, 1), not \(labelSmoothing)")
        }
    }
}

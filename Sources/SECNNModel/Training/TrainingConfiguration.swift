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
/// halved after 15 epochs without validation improvement, L1 1e-5.
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

    public init() {}

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
    }
}

import SECNNCore

/// Everything that fixes a score: the Fisher approximation, the scoring
/// subset, and how candidates are materialised (the noise of their new
/// weights, the seed of that noise, the bounds they must stay within).
/// What a candidate is (how many channels a widening adds) is the
/// candidate's own.
public struct ScoringOptions: Codable, Equatable, Sendable {
    public var fisher: NaturalScoreSettings
    /// Training images the scores are computed on, chosen once by `seed`.
    public var subsetSize: Int
    /// Images per forward/backward pass: bounds memory, not the result
    /// (eval-mode batch norm keeps the examples independent).
    public var chunkSize: Int
    /// Standard deviation of the Gaussian noise on new weights.
    public var noise: Double
    public var limits: ExpansionLimits
    public var seed: UInt64

    public init(fisher: NaturalScoreSettings = NaturalScoreSettings(), subsetSize: Int = 512, chunkSize: Int = 128,
                noise: Double = 1e-4, limits: ExpansionLimits = ExpansionLimits(),
                seed: UInt64 = 0) {
        self.fisher = fisher
        self.subsetSize = subsetSize
        self.chunkSize = chunkSize
        self.noise = noise
        self.limits = limits
        self.seed = seed
    }

    public func validate() throws {
        guard subsetSize >= 1, chunkSize >= 1 else {
            throw ModelError.invalidConfiguration("scoring: subset (\(subsetSize)) and chunk (\(chunkSize)) must be at least 1")
        }
        guard noise >= 0, noise.isFinite, fisher.epsilon >= 0, fisher.damping > 0 else {
            throw ModelError.invalidConfiguration(
                "scoring: noise (\(noise)) and epsilon (\(fisher.epsilon)) must be ≥ 0, damping (\(fisher.damping)) > 0")
        }
    }
}

extension LabeledImages {
    /// `count` images (all, if there are fewer) chosen at random by `seed`,
    /// in their original order: the fixed scoring subset.
    public func scoringSubset(count: Int, seed: UInt64) -> LabeledImages {
        var generator = SeededGenerator(seed: seed).derived(3)
        var indices = Array(0..<self.count)
        indices.shuffle(using: &generator)
        let chosen = indices.prefix(count).sorted()
        let (tensor, labels) = batch(chosen[...])
        return LabeledImages(images: tensor.scalars, labels: labels, channels: channels, height: height, width: width)
    }
}

/// η of one model and its size: what a rule compares.
public struct NaturalScore: Codable, Equatable, Sendable {
    /// ḡᵀF⁻¹ḡ with ḡ and F the subset's mean gradient and Fisher.
    public var eta: Double
    public var parameters: Int
    /// η less its expected excess from sampling: an estimate of μᵀF⁻¹μ for
    /// μ the expected gradient over the data, not the subset's mean ḡ
    /// (nil in records from before secnn computed it).
    ///
    /// Over n examples, E[ḡᵀF⁻¹ḡ] = μᵀF⁻¹μ + tr(F⁻¹Σ)/n, Σ the per-example
    /// gradients' covariance. With Σ = F − ḡḡᵀ, the excess is (P_eff − η)/n
    /// for P_eff = tr(F_d⁻¹F), the parameters the damped Fisher resolves
    /// (each with a gradient counts 1 in the diagonal); correcting for the
    /// n − 1 degrees of freedom, η̃ = (n·η − P_eff)/(n − 1). Every parameter
    /// adds about 1/n to η even where its expected gradient is zero, so on
    /// 512 images a candidate's Δp new parameters raise η by about Δp/512
    /// whether or not they let the model do anything new; η̃ removes that
    /// floor and may be negative when the signal is below the noise.
    public var unbiasedEta: Double?

    public init(eta: Double, parameters: Int, unbiasedEta: Double? = nil) {
        self.eta = eta
        self.parameters = parameters
        self.unbiasedEta = unbiasedEta
    }

    /// The score from η and P_eff = tr(F_d⁻¹F) over `examples` images (see `unbiasedEta`).
    public init(eta: Double, parameters: Int, effectiveParameters: Double, examples: Int) {
        let n = Double(examples)
        self.init(eta: eta, parameters: parameters,
                  unbiasedEta: examples > 1 ? (n * eta - effectiveParameters) / (n - 1) : nil)
    }

    /// η per parameter, for rules that normalise by size.
    public var perParameter: Double { eta / Double(max(1, parameters)) }
}

/// A scored candidate: the expansion and the score of the model it makes.
public struct CandidateScore: Codable, Equatable, Sendable {
    public var candidate: Candidate
    public var score: NaturalScore
    /// Parameters the expansion adds (Δp).
    public var deltaParameters: Int

    public init(candidate: Candidate, score: NaturalScore, deltaParameters: Int) {
        self.candidate = candidate
        self.score = score
        self.deltaParameters = deltaParameters
    }
}

/// The current model's score and every candidate's.
public struct ScoreReport: Codable, Equatable, Sendable {
    public var method: String
    public var current: NaturalScore
    public var candidates: [CandidateScore]
    /// Candidates the limits refused, with the reason (not scored).
    public var refused: [RefusedCandidate]

    public init(method: String, current: NaturalScore, candidates: [CandidateScore], refused: [RefusedCandidate] = []) {
        self.method = method
        self.current = current
        self.candidates = candidates
        self.refused = refused
    }
}

public struct RefusedCandidate: Codable, Equatable, Sendable {
    public var candidate: Candidate
    public var reason: String

    public init(candidate: Candidate, reason: String) {
        self.candidate = candidate
        self.reason = reason
    }
}

extension CandidateScore {
    /// η/η_c: the paper's ratio.
    public func ratio(over current: NaturalScore) -> Double { score.eta / current.eta }

    /// η̃/η̃_c, the ratio of the unbiased scores (`NaturalScore.unbiasedEta`);
    /// nil without them, or when η̃_c ≤ 0 (no signal above the noise to compare with).
    public func unbiasedRatio(over current: NaturalScore) -> Double? {
        guard let eta = score.unbiasedEta, let base = current.unbiasedEta, base > 0 else { return nil }
        return eta / base
    }
}

/// η of one model and its size: what a rule compares.
public struct NaturalScore: Codable, Equatable, Sendable {
    public var eta: Double
    public var parameters: Int

    public init(eta: Double, parameters: Int) {
        self.eta = eta
        self.parameters = parameters
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
}

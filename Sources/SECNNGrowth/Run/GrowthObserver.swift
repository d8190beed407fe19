import SECNNModel

/// Receives a growth run's events besides the training progress.
public protocol GrowthObserver: TrainingObserver {
    /// After every epoch but the last: what the rule was asked and answered.
    func round(_ round: GrowthRound)
    /// After an expansion was applied.
    func expanded(_ record: ExpansionRecord)
    /// When the rule failed this epoch (the epoch proceeds without expansion).
    func ruleFailed(epoch: Int, error: Error, consecutiveFailures: Int)
}

/// One round of a growth run: the scores the rule saw, what it decided and
/// why. `events.jsonl` holds one per epoch.
public struct GrowthRound: Codable, Equatable, Sendable {
    public enum Outcome: String, Codable, Sendable {
        /// `when` returned false (a cool-down, a warm-up): nothing scored.
        case notScored = "not_scored"
        /// `propose` returned no candidate: nothing scored.
        case nothingProposed = "nothing_proposed"
        /// Scored; `decide` returned nil.
        case declined
        /// Scored; `decide` chose `choice`, which was applied.
        case expanded
        /// The rule failed (`error`); the epoch proceeded without expansion.
        case ruleFailed = "rule_failed"
    }

    public var epoch: Int
    public var outcome: Outcome
    /// The scores the rule saw, and each candidate's ratio η/η_c (in the same order).
    public var scores: ScoreReport? {
        didSet { ratios = scores.map { report in report.candidates.map { $0.ratio(over: report.current) } } }
    }
    public private(set) var ratios: [Double]?
    public var choice: Candidate?
    public var error: String?

    public init(epoch: Int, outcome: Outcome, scores: ScoreReport? = nil, choice: Candidate? = nil, error: String? = nil) {
        self.epoch = epoch
        self.outcome = outcome
        self.scores = scores
        ratios = scores.map { report in report.candidates.map { $0.ratio(over: report.current) } }
        self.choice = choice
        self.error = error
    }
}

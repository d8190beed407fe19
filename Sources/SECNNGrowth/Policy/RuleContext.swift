import SECNNModel

/// What a rule sees of the run: the `ctx` table of `rules/README.md`.
/// The growth run fills it; `Rule` turns it into a Lua table.
public struct RuleContext: Sendable {
    /// Epochs finished (the epoch just trained, 1-based).
    public var epoch: Int
    /// Epochs the run will train in all.
    public var epochs: Int
    public var architecture: ArchitectureSpec
    /// The current model's score and every scored candidate's (nil in
    /// `when` and `propose`, which run before scoring).
    public var scores: ScoreReport?
    public var history: [ExpansionRecord]
    public var metrics: [EpochMetrics]
    /// The bounds growth runs under: the rule's per-block limits and the
    /// run's bounds on the whole model (`ctx.limits`). Candidates past them
    /// are refused before scoring (`scores.refused`, `ctx.refused`).
    public var limits: ExpansionLimits
    /// `--rule-arg key=value` pairs for `ctx.args`, over the ones the rule
    /// was loaded with (`Rule.args`): a run that gave them to `Rule` can
    /// leave this empty.
    public var args: [String: String]

    public init(epoch: Int, epochs: Int, architecture: ArchitectureSpec, scores: ScoreReport? = nil,
                history: [ExpansionRecord] = [], metrics: [EpochMetrics] = [], limits: ExpansionLimits = ExpansionLimits(),
                args: [String: String] = [:]) {
        self.epoch = epoch
        self.epochs = epochs
        self.architecture = architecture
        self.scores = scores
        self.history = history
        self.metrics = metrics
        self.limits = limits
        self.args = args
    }
}

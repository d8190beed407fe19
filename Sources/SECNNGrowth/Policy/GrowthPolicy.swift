import SECNNCore
import SECNNModel

/// What decides a growth run's expansions: a Lua rule (`SECNNRules.Rule`), or any
/// Swift type that answers the same three questions. `SelfExpandingRun`
/// calls `when`, then `propose`, scores the proposals, then `decide`; an
/// error thrown by any of them is the policy's failure (reported, the epoch
/// proceeds without expansion), never the run's.
public protocol GrowthPolicy: AnyObject {
    /// For logs and summaries.
    var name: String { get }
    /// Where the policy comes from, for error messages (a file, or a type name).
    var displayPath: String { get }
    /// Which natural score the run computes for it.
    var scoreMethod: NaturalScoreMethod { get }
    var expansionLimits: ExpansionLimits { get }
    /// `ctx.args`: settings given on the command line.
    var args: [String: String] { get }

    /// Whether to score at all after this epoch.
    func when(_ context: RuleContext) throws -> Bool
    /// The candidates to score.
    func propose(_ context: RuleContext) throws -> [Candidate]
    /// One of `context.scores.candidates`' candidates, or nil to keep the model.
    func decide(_ context: RuleContext) throws -> Candidate?
}

extension GrowthPolicy {
    public var displayPath: String { name }
    public var scoreMethod: NaturalScoreMethod { .diag }
    public var expansionLimits: ExpansionLimits { ExpansionLimits() }
    public var args: [String: String] { [:] }
    public func when(_ context: RuleContext) throws -> Bool { true }
    public func propose(_ context: RuleContext) throws -> [Candidate] {
        Candidate.all(blocks: context.architecture.blocks.count, widenBy: 2)
    }
}

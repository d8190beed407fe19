/// One expansion a growth run applied: what a rule sees in `ctx.history`,
/// what the run logs, and what the ladder's rungs refer to.
public struct ExpansionRecord: Codable, Equatable, Sendable {
    /// The epoch after which it was applied (1-based: the epoch just trained).
    public var epoch: Int
    public var candidate: Candidate
    public var parametersBefore: Int
    public var parametersAfter: Int
    /// η of the chosen candidate over η of the model it grew from.
    public var ratio: Double
    /// The architecture after the expansion.
    public var architecture: String

    public init(epoch: Int, candidate: Candidate, parametersBefore: Int, parametersAfter: Int, ratio: Double,
                architecture: String) {
        self.epoch = epoch
        self.candidate = candidate
        self.parametersBefore = parametersBefore
        self.parametersAfter = parametersAfter
        self.ratio = ratio
        self.architecture = architecture
    }
}

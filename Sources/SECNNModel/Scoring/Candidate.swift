import SECNNCore

/// One expansion to score: what a rule's `propose` names and `decide` picks.
public struct Candidate: Codable, Equatable, Hashable, Sendable, CustomStringConvertible {
    public var block: Int
    public var op: Expansion.Operation
    /// Channels added by `widen` (0 for `layer`).
    public var channels: Int

    public init(block: Int, op: Expansion.Operation, channels: Int = 0) {
        self.block = block
        self.op = op
        self.channels = op == .widen ? channels : 0
    }

    /// Every block, both ops: the paper's candidate set.
    public static func all(blocks: Int, widenBy channels: Int) -> [Candidate] {
        (0..<blocks).flatMap { [Candidate(block: $0, op: .layer), Candidate(block: $0, op: .widen, channels: channels)] }
    }

    public var description: String {
        op == .layer ? "layer on block \(block)" : "widen block \(block) by \(channels)"
    }
}

extension ArchitectureSpec {
    /// The architecture `candidate` would make of this one (no checks: the
    /// growth operations check their own preconditions).
    public func applying(_ candidate: Candidate) -> ArchitectureSpec {
        var grown = self
        switch candidate.op {
        case .layer: grown.blocks[candidate.block].layers += 1
        case .widen: grown.blocks[candidate.block].channels += candidate.channels
        }
        return grown
    }
}

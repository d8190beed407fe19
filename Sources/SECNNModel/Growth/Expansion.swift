import SECNNCore

/// What one expansion changed: enough to log it, to check it against the
/// network it applies to, and to carry everything keyed by path (the
/// optimizer's moments) through it.
public struct Expansion: Codable, Equatable, Sendable, CustomStringConvertible {
    /// The growth operations, named as growth rules name them.
    public enum Operation: String, Codable, Sendable {
        /// An identity-initialised conv layer appended to a block.
        case layer
        /// More channels in every layer of a block.
        case widen

        /// `add a layer to block 2`, `widen block 2`: for descriptions and errors.
        func action(block: Int) -> String {
            switch self {
            case .layer: "add a layer to block \(block)"
            case .widen: "widen block \(block)"
            }
        }
    }

    public var operation: Operation
    public var block: Int
    /// Channels added to the block (0 for a layer).
    public var channelsAdded: Int
    public var before: ArchitectureSpec
    public var after: ArchitectureSpec
    /// The state paths the expansion created (parameters and running
    /// statistics), in state-dict order. No existing path is renamed.
    public var addedPaths: [String]
    /// How each existing tensor that changed shape grew, by path. Tensors
    /// not listed kept their shape and values.
    public var growth: [String: TensorGrowth]

    public var parametersBefore: Int { before.parameterCount }
    public var parametersAfter: Int { after.parameterCount }
    public var parameterDelta: Int { parametersAfter - parametersBefore }

    /// `widen block 1 by 4 channels: 9024 → 10188 parameters (+1164)`.
    public var description: String {
        let what = operation.action(block: block) + (operation == .widen ? " by \(channelsAdded) channels" : "")
        return "\(what): \(parametersBefore) → \(parametersAfter) parameters (+\(parameterDelta))"
    }
}

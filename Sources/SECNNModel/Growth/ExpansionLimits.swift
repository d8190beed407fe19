import SECNNCore

/// How far growth may go. The rule bounds each block (`layers_per_block`,
/// `channels_per_block`); the run bounds the whole model (`secnn train
/// --max-params`, `--max-memory`), so that no rule, however it misbehaves,
/// grows a model the machine cannot train. No operation hides a cap of its own.
public struct ExpansionLimits: Codable, Equatable, Sendable {
    /// Conv layers a block may reach.
    public var maxLayersPerBlock: Int
    /// Channels a block may reach; nil for no bound.
    public var maxChannelsPerBlock: Int?
    /// Parameters the grown model may have; nil for no bound.
    public var maxParameters: Int?
    /// What training the grown model may need by
    /// `ArchitectureSpec.trainingMemoryEstimate`; nil for no bound.
    public var maxTrainingMemory: MemoryBound?

    /// Bytes, at the run's batch size.
    public struct MemoryBound: Codable, Equatable, Sendable {
        public var bytes: Int
        public var batchSize: Int

        public init(bytes: Int, batchSize: Int) {
            self.bytes = bytes
            self.batchSize = batchSize
        }
    }

    /// The channel bound when a rule sets none: far above anything the stock
    /// rules reach (budget.lua priced by parameters takes digits' block 0 to
    /// 238), far below what exhausts memory at once.
    public static let defaultMaxChannelsPerBlock = 1024

    public init(maxLayersPerBlock: Int = 10, maxChannelsPerBlock: Int? = Self.defaultMaxChannelsPerBlock,
                maxParameters: Int? = nil, maxTrainingMemory: MemoryBound? = nil) {
        self.maxLayersPerBlock = maxLayersPerBlock
        self.maxChannelsPerBlock = maxChannelsPerBlock
        self.maxParameters = maxParameters
        self.maxTrainingMemory = maxTrainingMemory
    }

    /// Throws `ModelError.invalidExpansion`, naming the expansion and the
    /// bound, when the model `candidate` makes of `architecture` would pass
    /// the run's bounds: checked before the candidate is built or scored,
    /// since building it may itself exhaust memory. (A block that does not
    /// exist is left to the growth operation to report.)
    public func check(_ candidate: Candidate, growing architecture: ArchitectureSpec) throws {
        guard architecture.blocks.indices.contains(candidate.block), candidate.channels >= 0 else { return }
        let grown = architecture.applying(candidate)
        let expansion = candidate.op.action(block: candidate.block)
            + (candidate.op == .widen ? " by \(candidate.channels) channels" : "")
        if let maxParameters, grown.parameterCount > maxParameters {
            throw ModelError.invalidExpansion(
                "cannot \(expansion): the model would have \(grown.parameterCount) parameters, past the bound of "
                    + "\(maxParameters) (--max-params)")
        }
        if let bound = maxTrainingMemory {
            let needed = grown.trainingMemoryEstimate(batchSize: bound.batchSize)
            if needed > bound.bytes {
                throw ModelError.invalidExpansion(
                    "cannot \(expansion): training \(grown) at batch \(bound.batchSize) would need about "
                        + "\(Self.mebibytes(needed)) MiB, past the bound of \(Self.mebibytes(bound.bytes)) MiB "
                        + "(--max-memory)")
            }
        }
    }

    private static func mebibytes(_ bytes: Int) -> Int { (bytes + (1 << 20) - 1) >> 20 }
}

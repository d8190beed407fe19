import SECNNCore

/// An expansion in progress: the network's tensors by path with the grown
/// and added ones replaced, and the record of what changed.
///
/// Unchanged tensors are shared with the old network (copy-on-write), and
/// the result goes through `SECNNNetwork(spec:tensors:source:)`, so a grown
/// network meets the same checks as a loaded one: every path of the new
/// architecture present with its shape, nothing extra, in state-dict order.
struct StateEdit<T: TensorScalar> {
    private let original: SECNNNetwork<T>
    private var tensors: [String: Tensor<T>]
    private var growth: [String: TensorGrowth] = [:]
    private var added: Set<String> = []

    init(_ network: SECNNNetwork<T>) {
        original = network
        tensors = Dictionary(uniqueKeysWithValues: network.state.entries.map { ($0.path, $0.tensor) })
    }

    /// Grows the existing tensor at `path` by `insertions`, keeping its old
    /// values; the new entries come from `fill`, in row-major order.
    mutating func grow(_ path: String, _ insertions: [TensorGrowth.Insertion], fill: () -> T) {
        let old = original.state.tensor(path)
        let change = TensorGrowth(oldShape: old.shape, insertions: insertions)
        tensors[path] = Tensor(shape: change.newShape, scalars: change.embed(old.scalars, fill: fill))
        growth[path] = change
    }

    mutating func add(_ path: String, _ tensor: Tensor<T>) {
        precondition(tensors[path] == nil, "StateEdit: \(path) exists already")
        tensors[path] = tensor
        added.insert(path)
    }

    /// The grown network, checked against `architecture`, and its description.
    func finish(_ operation: Expansion.Operation, block: Int, channelsAdded: Int,
                architecture: ArchitectureSpec) throws -> (network: SECNNNetwork<T>, expansion: Expansion) {
        let network = try SECNNNetwork(spec: architecture, tensors: tensors,
                                       source: operation.action(block: block))
        let expansion = Expansion(
            operation: operation, block: block, channelsAdded: channelsAdded, before: original.spec,
            after: architecture, addedPaths: network.state.paths.filter(added.contains), growth: growth)
        return (network, expansion)
    }
}

extension SECNNNetwork {
    /// The checks every expansion shares: the block exists, the noise is a
    /// usable standard deviation.
    func validateExpansion(_ operation: Expansion.Operation, block: Int, noise: Double) throws {
        guard spec.blocks.indices.contains(block) else {
            throw ModelError.invalidExpansion(
                "cannot \(operation.action(block: block)): the model has \(spec.blocks.count) blocks (0–\(spec.blocks.count - 1))")
        }
        guard noise >= 0, noise.isFinite else {
            throw ModelError.invalidExpansion(
                "cannot \(operation.action(block: block)): noise must be a finite standard deviation ≥ 0, not \(noise)")
        }
    }
}

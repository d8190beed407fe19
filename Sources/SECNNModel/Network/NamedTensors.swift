import SECNNCore

/// Tensors addressed by stable dotted paths, kept in insertion order (the
/// order of a PyTorch state dict, which is the order written to files).
public struct NamedTensors<T: TensorScalar>: Sendable, Equatable {
    public private(set) var paths: [String] = []
    private var storage: [String: Tensor<T>] = [:]

    public init() {}

    public subscript(path: String) -> Tensor<T>? {
        get { storage[path] }
        set {
            if storage[path] == nil, newValue != nil { paths.append(path) }
            if newValue == nil { paths.removeAll { $0 == path } }
            storage[path] = newValue
        }
    }

    /// The tensor at `path`; the path must exist (a programming error otherwise).
    public func tensor(_ path: String) -> Tensor<T> {
        guard let tensor = storage[path] else { preconditionFailure("no tensor at \(path)") }
        return tensor
    }

    /// Changes the tensor at `path` in place (its position stays; its
    /// buffer is not copied when uniquely referenced).
    public mutating func modify(_ path: String, _ body: (inout Tensor<T>) -> Void) {
        guard storage[path] != nil else { preconditionFailure("no tensor at \(path)") }
        body(&storage[path]!)
    }

    public var entries: [(path: String, tensor: Tensor<T>)] { paths.map { ($0, storage[$0]!) } }
}

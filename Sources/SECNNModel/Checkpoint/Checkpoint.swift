import Foundation
import SECNNCore
import SafeTensors

/// A trained network with everything needed to evaluate it and to continue
/// its training, in one safetensors file.
///
/// Tensors: the parameters and batch-norm running statistics under PyTorch's
/// state-dict names (`blocks.0.layers.0.conv.weight`, …), so
/// `torch_peer.py --eval-weights` and `safetensors` read the file unchanged.
/// `__metadata__` (string values): `format`, `spec` (the `--spec` text),
/// and as JSON `architecture`, `normalization`, `dataset`, `class_names` (the
/// labels' names, for `secnn predict`; absent in older files), and for training
/// checkpoints `configuration`, `training` (epoch, rate schedule, random
/// streams, history) and `optimizer` (Adam's moments per parameter path,
/// as base64 little-endian float32).
public struct Checkpoint: Sendable {
    public static let format = "secnn-checkpoint-1"

    public var network: SECNNNetwork<Float>
    public var normalization: Normalization
    public var dataset: String
    /// The name of each label, when the checkpoint records them.
    public var classNames: [String]?
    public var configuration: TrainingConfiguration?
    public var training: TrainingState?
    public var optimizer: Adam<Float>?

    public init(network: SECNNNetwork<Float>, normalization: Normalization, dataset: String, classNames: [String]? = nil,
                configuration: TrainingConfiguration? = nil, training: TrainingState? = nil, optimizer: Adam<Float>? = nil) {
        self.network = network
        self.normalization = normalization
        self.dataset = dataset
        self.classNames = classNames
        self.configuration = configuration
        self.training = training
        self.optimizer = optimizer
    }

    /// Writes atomically: a temporary file, fsync, rename. A crash at any
    /// moment leaves the previous file at `path` intact. Tensors go in
    /// state-dict order, so equal checkpoints give equal bytes.
    public func write(toPath path: String) throws {
        let tensors = network.state.entries.map { SafeTensor(name: $0.path, shape: $0.tensor.shape, floats: $0.tensor.scalars) }
        var metadata = [
            "format": Self.format,
            "spec": network.spec.description,
            "architecture": try json(network.spec),
            "normalization": try json(normalization),
            "dataset": dataset,
        ]
        if let classNames { metadata["class_names"] = try json(classNames) }
        if let configuration { metadata["configuration"] = try json(configuration) }
        if let training { metadata["training"] = try json(training) }
        if let optimizer { metadata["optimizer"] = try json(OptimizerRecord(optimizer)) }
        try SafeTensorsFile(tensors: tensors, metadata: metadata).write(toPath: path)
    }

    /// Reads and checks a checkpoint: the file's layout (by the safetensors
    /// reader), the metadata, and every tensor against the architecture.
    public init(contentsOf path: String) throws {
        try self.init(file: SafeTensorsFile(contentsOf: path), source: path)
    }

    /// Checks a checkpoint held in memory as `init(contentsOf:)` checks a
    /// file; errors name `source`.
    public init(bytes: [UInt8], source: String) throws {
        try self.init(file: SafeTensorsFile(bytes: bytes, source: source), source: source)
    }

    private init(file: SafeTensorsFile, source path: String) throws {
        func field<V: Decodable>(_ key: String, _ type: V.Type) throws -> V? {
            guard let text = file.metadata[key] else { return nil }
            do { return try JSONDecoder().decode(V.self, from: Data(text.utf8)) } catch {
                throw ModelError.invalidCheckpoint(file: path, reason: "metadata '\(key)' is not valid: \(error)")
            }
        }
        guard file.metadata["format"] == Self.format else {
            let found = file.metadata["format"].map { "'\($0)'" } ?? "missing"
            throw ModelError.invalidCheckpoint(
                file: path, reason: "not a secnn checkpoint (metadata 'format' is \(found), expected '\(Self.format)')")
        }
        guard let spec = try field("architecture", ArchitectureSpec.self),
              let normalization = try field("normalization", Normalization.self) else {
            throw ModelError.invalidCheckpoint(file: path, reason: "metadata lacks 'architecture' or 'normalization'")
        }
        network = try SECNNNetwork(spec: spec, tensors: try floatTensors(of: file, source: path), source: path)
        self.normalization = normalization
        dataset = file.metadata["dataset"] ?? "unknown"
        classNames = try field("class_names", [String].self)
        if let classNames, classNames.count != spec.classes {
            throw ModelError.invalidCheckpoint(
                file: path, reason: "metadata 'class_names' has \(classNames.count) names for \(spec.classes) classes")
        }
        configuration = try field("configuration", TrainingConfiguration.self)
        training = try field("training", TrainingState.self)
        optimizer = try field("optimizer", OptimizerRecord.self)?.adam(checkedAgainst: network, file: path)
    }
}

extension SECNNNetwork where T == Float {
    /// A network from a plain weights file with PyTorch's state-dict names
    /// (e.g. written by `torch_peer.py --export-reference`), checked against `spec`.
    public init(spec: ArchitectureSpec, weightsFile path: String) throws {
        try self.init(spec: spec, tensors: try floatTensors(of: try SafeTensorsFile(contentsOf: path), source: path),
                      source: path)
    }
}

/// The F32 tensors of a file, by name; any other dtype is an error naming the tensor.
private func floatTensors(of file: SafeTensorsFile, source: String) throws -> [String: Tensor<Float>] {
    var tensors: [String: Tensor<Float>] = [:]
    for tensor in file.tensors {
        guard tensor.dtype == .f32 else {
            throw ModelError.tensorMismatch(file: source, path: tensor.name, expected: "dtype F32",
                                            found: "dtype \(tensor.dtype.rawValue)")
        }
        tensors[tensor.name] = Tensor(shape: tensor.shape, scalars: try tensor.floats())
    }
    return tensors
}

private func json<V: Encodable>(_ value: V) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

/// Adam's state as stored: moments as base64 float32, exact and compact.
private struct OptimizerRecord: Codable {
    struct Slot: Codable {
        var step: Int
        var firstMoment: String
        var secondMoment: String
    }
    var learningRate: Double, beta1: Double, beta2: Double, epsilon: Double
    var slots: [String: Slot]

    init(_ adam: Adam<Float>) {
        learningRate = adam.learningRate
        beta1 = adam.beta1
        beta2 = adam.beta2
        epsilon = adam.epsilon
        slots = adam.slots.mapValues {
            Slot(step: $0.step, firstMoment: base64($0.firstMoment), secondMoment: base64($0.secondMoment))
        }
    }

    func adam(checkedAgainst network: SECNNNetwork<Float>, file: String) throws -> Adam<Float> {
        var adam = Adam<Float>(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon)
        for (path, slot) in slots {
            guard let parameter = network.state[path], network.parameterPaths.contains(path) else {
                throw ModelError.invalidCheckpoint(file: file, reason: "optimizer state for unknown parameter \(path)")
            }
            guard let first = floats(base64: slot.firstMoment), let second = floats(base64: slot.secondMoment),
                  first.count == parameter.count, second.count == parameter.count else {
                throw ModelError.invalidCheckpoint(
                    file: file, reason: "optimizer state for \(path) is not \(parameter.count) base64 float32 values")
            }
            adam.slots[path] = Adam<Float>.Slot(firstMoment: first, secondMoment: second, step: slot.step)
        }
        return adam
    }
}

private func base64(_ values: [Float]) -> String {
    values.map(\.bitPattern.littleEndian).withUnsafeBytes { Data($0).base64EncodedString() }
}

private func floats(base64 text: String) -> [Float]? {
    guard let data = Data(base64Encoded: text), data.count % 4 == 0 else { return nil }
    return data.withUnsafeBytes { raw in
        (0..<(data.count / 4)).map {
            Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)))
        }
    }
}

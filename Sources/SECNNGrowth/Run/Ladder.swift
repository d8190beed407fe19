import Foundation
import SECNNModel
import SafeTensors

/// The checkpoint ladder of a growth run: for every size the model went
/// through, its best checkpoint (by validation accuracy), so one run yields
/// models from very small to full size. Kept as `RUN/ladder/*.safetensors`
/// and described by `RUN/ladder.json` (snake_case keys, as in the run's
/// other files; ladders written before secnn used them read as well).
public struct Ladder: Codable, Equatable, Sendable {
    /// One size of the model and its best checkpoint.
    public struct Rung: Codable, Equatable, Sendable {
        /// The checkpoint, relative to the run directory.
        public var file: String
        public var parameters: Int
        /// Multiply-adds per image at inference (`ArchitectureSpec.multiplyAdds`).
        public var flops: Int
        public var architecture: String
        /// The epoch of the best validation accuracy at this size.
        public var epoch: Int
        public var validationAccuracy: Double
        /// The same checkpoint's test accuracy (what `secnn eval` prints for it).
        public var testAccuracy: Double
    }

    public private(set) var rungs: [Rung] = []

    public init() {}

    public static let fileName = "ladder.json"
    public static let folder = "ladder"

    /// Reads `RUN/ladder.json` (convertFromSnakeCase leaves the camelCase keys of older files as they are, so both read).
    public init(run directory: String) throws {
        self = try RunFiles.read(Self.fileName, in: directory,
                                 missing: "no ladder here (is \(directory) a run of `secnn train --rule`?)",
                                 invalid: "not a ladder file")
    }

    /// Writes `checkpoint` as the next rung and rewrites `ladder.json` (both
    /// atomically). A checkpoint of the last rung's own architecture (a run
    /// extended past its end, still at that size) replaces the rung when its
    /// validation accuracy is higher, and is dropped otherwise.
    public mutating func add(_ checkpoint: Checkpoint, epoch: Int, validationAccuracy: Double, testAccuracy: Double,
                             run directory: String) throws {
        if let last = rungs.last, last.architecture == checkpoint.network.spec.description {
            guard validationAccuracy > last.validationAccuracy else { return }
            rungs.removeLast()
        }
        let parameters = checkpoint.network.parameterCount
        let file = "\(Self.folder)/rung-\(rungs.count + 1)-\(parameters)-params.safetensors"
        try FileManager.default.createDirectory(atPath: (directory as NSString).appendingPathComponent(Self.folder),
                                                withIntermediateDirectories: true)
        try checkpoint.write(toPath: (directory as NSString).appendingPathComponent(file))
        rungs.append(Rung(file: file, parameters: parameters, flops: checkpoint.network.spec.multiplyAdds,
                          architecture: checkpoint.network.spec.description,
                          epoch: epoch, validationAccuracy: validationAccuracy, testAccuracy: testAccuracy))
        try AtomicWrite.write(try json(), toPath: (directory as NSString).appendingPathComponent(Self.fileName))
    }

    /// The text of `ladder.json`: indented, keys sorted and in snake_case.
    public func json() throws -> [UInt8] {
        Array(try RunFiles.prettyEncoder().encode(self)) + Array("\n".utf8)
    }

    /// The most accurate rung (validation accuracy) with at most `maxParameters`.
    public func best(maxParameters: Int) -> Rung? {
        rungs.filter { $0.parameters <= maxParameters }.max { $0.validationAccuracy < $1.validationAccuracy }
    }
}

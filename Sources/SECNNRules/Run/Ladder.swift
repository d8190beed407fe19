import Foundation
import SafeTensors
import SECNNModel

/// The checkpoint ladder of a growth run: for every size the model went
/// through, its best checkpoint (by validation accuracy), so one run yields
/// models from very small to full size. Kept as `RUN/ladder/*.safetensors`
/// and described by `RUN/ladder.json`.
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

    /// Reads `RUN/ladder.json`.
    public init(run directory: String) throws {
        let path = (directory as NSString).appendingPathComponent(Self.fileName)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ModelError.invalidConfiguration("\(path): no ladder here (is \(directory) a run of `secnn train --rule`?)")
        }
        do { self = try JSONDecoder().decode(Ladder.self, from: data) } catch {
            throw ModelError.invalidConfiguration("\(path): not a ladder file: \(error)")
        }
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
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicWrite.write(Array(try encoder.encode(self)),
                              toPath: (directory as NSString).appendingPathComponent(Self.fileName))
    }

    /// The most accurate rung (validation accuracy) with at most `maxParameters`.
    public func best(maxParameters: Int) -> Rung? {
        rungs.filter { $0.parameters <= maxParameters }.max { $0.validationAccuracy < $1.validationAccuracy }
    }
}

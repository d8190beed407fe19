import Foundation
import SECNNModel
import SafeTensors

/// The record a run leaves beside its checkpoints, for scripts, spreadsheets
/// and comparing rules afterwards:
///
/// - `config.json`: the command line, the resolved configuration, the
///   architecture, the dataset, secnn's version, the thread count, the rule;
/// - `rule.lua`: the exact rule source the run used (its FNV-1a hash in
///   `config.json`);
/// - `metrics.jsonl` and `metrics.csv`: one row per epoch, with the wall
///   time since the run started (`elapsed_s`: every part of a resumed run,
///   scoring and checkpoints included; an interrupted epoch's lost work is not);
/// - `events.jsonl`: one growth round per epoch (`GrowthRound`: the scores
///   the rule saw, its decision and why);
/// - `summary.json`: the final figures `secnn train` prints (`writeSummary`).
///
/// It forwards every event to `next` (the printer). Files are started afresh
/// by `init` (or appended to, when a run resumes); a failed write is
/// reported once on stderr and never stops the training.
public final class RunFiles: GrowthObserver {
    /// What `config.json` holds: enough to resume the run.
    public struct Configuration: Codable {
        public var commandLine: [String]
        public var version: String
        /// Kernel threads per process, and the processes of a data-parallel run (`mpirun -np N`; absent: one).
        public var threads: Int
        public var processes: Int?
        /// Batch norm over each process's shard instead of the global batch (`--no-sync-bn`); absent: synchronised.
        public var syncBatchNorm: Bool?
        /// The `--data` source, and the data's name and checksum.
        public var data: String
        public var dataset: String
        public var datasetChecksum: String
        public var architecture: String
        public var training: TrainingConfiguration
        public var rule: String?
        public var ruleChecksum: String?
        public var ruleArgs: [String: String]
        public var ruleFailures: Int
        public var scoreSubset: Int
        /// The run's bounds on growth (`--max-params`, `--max-memory` in bytes); absent: none recorded.
        public var maxParams: Int?
        public var maxMemory: Int?

        public init(commandLine: [String], version: String, threads: Int, data: String, dataset: String,
                    datasetChecksum: String, architecture: String, training: TrainingConfiguration, rule: String?,
                    ruleChecksum: String?, ruleArgs: [String: String], ruleFailures: Int, scoreSubset: Int,
                    maxParams: Int? = nil, maxMemory: Int? = nil, processes: Int? = nil, syncBatchNorm: Bool? = nil) {
            self.commandLine = commandLine
            self.processes = processes
            self.syncBatchNorm = syncBatchNorm
            self.version = version
            self.threads = threads
            self.data = data
            self.dataset = dataset
            self.datasetChecksum = datasetChecksum
            self.architecture = architecture
            self.training = training
            self.rule = rule
            self.ruleChecksum = ruleChecksum
            self.ruleArgs = ruleArgs
            self.ruleFailures = ruleFailures
            self.scoreSubset = scoreSubset
            self.maxParams = maxParams
            self.maxMemory = maxMemory
        }

        /// Writes `RUN/config.json` (atomically).
        public func write(run directory: String) throws {
            try AtomicWrite.write(Array(try RunFiles.prettyEncoder().encode(self)) + Array("\n".utf8),
                                  toPath: (directory as NSString).appendingPathComponent("config.json"))
        }

        /// Reads `RUN/config.json`.
        public init(run directory: String) throws {
            self = try RunFiles.read("config.json", in: directory,
                                     missing: "missing; is \(directory) a run of `secnn train`?",
                                     invalid: "not a run configuration")
        }
    }

    private let directory: String
    private let next: GrowthObserver?
    /// The wall time earlier parts of a resumed run took, and when this part began.
    private let earlierSeconds: Double
    private let start = Date()
    private var reportedFailure = false
    /// The columns of `metrics.csv`: a resumed run keeps its file's header, so
    /// a run begun before a column existed stays a well-formed table.
    private let csvColumns: [String]
    private static let currentCSVColumns = ["epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr",
                                            "params", "flops", "seconds", "images_per_s", "elapsed_s"]
    private let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    /// Starts the files afresh, or with `resuming` appends to them.
    public init(directory: String, configuration: Configuration, ruleSource: String?, resuming: Bool = false,
                forwardingTo next: GrowthObserver?) {
        self.directory = directory
        self.next = next
        earlierSeconds = resuming ? Self.lastElapsed(directory: directory) : 0
        csvColumns = resuming ? Self.csvHeader(directory: directory) ?? Self.currentCSVColumns : Self.currentCSVColumns
        guard !resuming else { return }
        do { try configuration.write(run: directory) } catch { failed("config.json", "\(error)") }
        if let ruleSource { write("rule.lua", ruleSource) }
        write("metrics.jsonl", "")
        write("metrics.csv", csvColumns.joined(separator: ",") + "\n")
        write("events.jsonl", "")
    }

    /// Decodes `RUN/file`, a JSON file with snake_case keys; the errors start
    /// with the file's path, then `missing` or `invalid` and the decoder's reason.
    static func read<Value: Decodable>(_ file: String, in directory: String, missing: String,
                                       invalid: String) throws -> Value {
        let path = (directory as NSString).appendingPathComponent(file)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ModelError.invalidConfiguration("\(path): \(missing)")
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do { return try decoder.decode(Value.self, from: data) } catch {
            throw ModelError.invalidConfiguration("\(path): \(invalid): \(error)")
        }
    }

    /// The encoder of a run's pretty JSON files (config.json, ladder-finetuned.json): snake_case keys, sorted.
    static func prettyEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return encoder
    }

    /// Writes `summary.json` (atomically; a failure is a warning, as for the other files).
    public static func writeSummary(_ json: String, directory: String) {
        let path = (directory as NSString).appendingPathComponent("summary.json")
        do { try AtomicWrite.write(Array(json.utf8), toPath: path) } catch {
            FileHandle.standardError.write(Data("warning: \(path) not written: \(error)\n".utf8))
        }
    }

    /// FNV-1a (64 bit) of the bytes of `parts`, in order, as 16 hex digits:
    /// an identity for the data and the rule, not a defence.
    public static func checksum(_ parts: [UnsafeRawBufferPointer]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for part in parts {
            for byte in part { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        }
        return String(hash, radix: 16).leftPadded(to: 16)
    }

    /// The checksum of a text (a rule's source).
    public static func checksum(_ text: String) -> String {
        Array(text.utf8).withUnsafeBytes { checksum([$0]) }
    }

    // MARK: Events

    public func trainingStep(epoch: Int, step: Int, steps: Int, imagesPerSecond: Double) {
        next?.trainingStep(epoch: epoch, step: step, steps: steps, imagesPerSecond: imagesPerSecond)
    }

    public func epochFinished(_ m: EpochMetrics, totalEpochs: Int, elapsed: Double, isBest: Bool) {
        let runSeconds = earlierSeconds + Date().timeIntervalSince(start)
        let row = MetricsRow(epoch: m.epoch, trainLoss: m.trainLoss, trainAccuracy: m.trainAccuracy,
                             valLoss: m.validationLoss, valAccuracy: m.validationAccuracy, lr: m.learningRate,
                             params: m.parameters, flops: m.multiplyAdds, seconds: m.seconds,
                             imagesPerS: m.imagesPerSecond, elapsedS: runSeconds)
        appendLine("metrics.jsonl", row)
        let fields = ["epoch": String(m.epoch), "train_loss": "\(m.trainLoss)", "train_accuracy": "\(m.trainAccuracy)",
                      "val_loss": "\(m.validationLoss)", "val_accuracy": "\(m.validationAccuracy)",
                      "lr": "\(m.learningRate)", "params": String(m.parameters), "flops": String(m.multiplyAdds),
                      "seconds": "\(m.seconds)", "images_per_s": "\(m.imagesPerSecond)", "elapsed_s": "\(runSeconds)"]
        append("metrics.csv", csvColumns.map { fields[$0] ?? "" }.joined(separator: ",") + "\n")
        next?.epochFinished(m, totalEpochs: totalEpochs, elapsed: elapsed, isBest: isBest)
    }

    public func round(_ round: GrowthRound) {
        appendLine("events.jsonl", round)
        next?.round(round)
    }

    public func expanded(_ record: ExpansionRecord) { next?.expanded(record) }

    public func ruleFailed(epoch: Int, error: Error, consecutiveFailures: Int) {
        next?.ruleFailed(epoch: epoch, error: error, consecutiveFailures: consecutiveFailures)
    }

    // MARK: Files

    /// A line of `metrics.jsonl`.
    struct MetricsRow: Codable {
        var epoch: Int, trainLoss: Double, trainAccuracy: Double, valLoss: Double, valAccuracy: Double, lr: Double
        var params: Int
        /// Multiply-adds per image (absent in runs from before secnn recorded it).
        var flops: Int?
        var seconds: Double, imagesPerS: Double
        /// Wall time since the run started (absent in runs from before secnn recorded it).
        var elapsedS: Double?
    }

    /// The column names in the first line of `metrics.csv`, if it has one.
    private static func csvHeader(directory: String) -> [String]? {
        let path = (directory as NSString).appendingPathComponent("metrics.csv")
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
              let line = text.split(separator: "\n").first else { return nil }
        return line.split(separator: ",").map(String.init)
    }

    /// `elapsed_s` of the last row of `metrics.jsonl`: how long the run's
    /// earlier parts took (0 when unknown).
    private static func lastElapsed(directory: String) -> Double {
        let path = (directory as NSString).appendingPathComponent("metrics.jsonl")
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
              let line = text.split(separator: "\n").last else { return 0 }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return (try? decoder.decode(MetricsRow.self, from: Data(line.utf8)))?.elapsedS ?? 0
    }

    private func appendLine<Value: Encodable>(_ file: String, _ value: Value) {
        guard let data = try? encoder.encode(value) else { return failed(file, "cannot encode the row") }
        append(file, String(decoding: data, as: UTF8.self) + "\n")
    }

    private func write(_ file: String, _ text: String) {
        let path = (directory as NSString).appendingPathComponent(file)
        if !FileManager.default.createFile(atPath: path, contents: Data(text.utf8)) { failed(file, "cannot be created") }
    }

    private func append(_ file: String, _ text: String) {
        let path = (directory as NSString).appendingPathComponent(file)
        guard let handle = FileHandle(forWritingAtPath: path) else { return failed(file, "cannot be opened") }
        defer { try? handle.close() }
        do {
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(text.utf8))
        } catch {
            failed(file, "\(error)")
        }
    }

    private func failed(_ file: String, _ why: String) {
        guard !reportedFailure else { return }
        reportedFailure = true
        FileHandle.standardError.write(Data("warning: \((directory as NSString).appendingPathComponent(file)) not written: \(why); training goes on\n".utf8))
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

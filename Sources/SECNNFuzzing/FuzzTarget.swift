/// The readers of outside input that secnn fuzzes: each target takes one
/// input of arbitrary bytes, and the reader must either accept it (with a
/// result that passes the target's own checks) or throw its error. Anything
/// else (a crash, a failed check, a hang, an allocation the input did not
/// pay for) is a finding.
///
/// The same entry points serve libFuzzer (the `Fuzz/` package, one
/// executable per target) and the replay of the committed corpus in
/// `swift test`, so every input ever found interesting is rerun on each test.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// A checkpoint file: the safetensors layout, the metadata and the tensors against the architecture.
    case checkpoint
    /// One CIFAR-10 batch file in the official binary layout.
    case cifar10Batch = "cifar10-batch"
    /// A gzip-compressed IDX file, read both as images and as labels.
    case idxGzip = "idx-gzip"
    /// Digits CSV text.
    case digitsCSV = "digits-csv"
    /// An image file of an image folder (PNG or JPEG, through libpng and libjpeg-turbo).
    case image
    /// A value a rule returned, built through Lua's C API from the input,
    /// copied out of the state and checked as `when`, `propose` and `decide`.
    case ruleDecision = "rule-decision"

    /// Runs one input. A violated check stops the process (`precondition`),
    /// which is what libFuzzer and the replay test catch.
    public func run(_ input: [UInt8]) -> FuzzOutcome {
        switch self {
        case .checkpoint: CheckpointFuzzing.run(input)
        case .cifar10Batch: DatasetFuzzing.cifar10Batch(input)
        case .idxGzip: DatasetFuzzing.idxGzip(input)
        case .digitsCSV: DatasetFuzzing.digitsCSV(input)
        case .image: DatasetFuzzing.image(input)
        case .ruleDecision: RuleDecisionFuzzing.run(input)
        }
    }
}

/// What a reader made of one input.
public enum FuzzOutcome: Equatable, Sendable {
    /// Read and checked.
    case accepted
    /// Refused with this error message.
    case rejected(String)

    /// `.accepted` when any reading of the same input was, else `rejection`:
    /// for targets that try one input several ways.
    static func accepted(byAnyOf outcomes: [FuzzOutcome], else rejection: FuzzOutcome) -> FuzzOutcome {
        outcomes.contains(.accepted) ? .accepted : rejection
    }

    /// Runs `body`, turning a thrown error into `.rejected` with its description.
    static func of(_ body: () throws -> Void) -> FuzzOutcome {
        do {
            try body()
            return .accepted
        } catch {
            return .rejected("\(error)")
        }
    }
}

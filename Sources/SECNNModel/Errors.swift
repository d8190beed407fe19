/// Errors of the model library. Libraries throw; only the CLI prints and exits.
public enum ModelError: Error, CustomStringConvertible, Equatable {
    /// An architecture string like `16x1,16x1,16x1` that does not parse.
    case invalidSpec(String)
    /// A tensor a checkpoint or a weights file should hold is missing, extra or misshaped.
    case tensorMismatch(file: String, path: String, expected: String, found: String)
    /// A checkpoint whose metadata is missing or unreadable.
    case invalidCheckpoint(file: String, reason: String)
    /// Options that cannot work together (e.g. a batch size of 0).
    case invalidConfiguration(String)
    /// A growth step that cannot be made (a bad block, a limit reached, unusable calibration images).
    case invalidExpansion(String)

    public var description: String {
        switch self {
        case .invalidSpec(let message): return message
        case .tensorMismatch(let file, let path, let expected, let found):
            return "\(file): tensor \(path): expected \(expected), found \(found)"
        case .invalidCheckpoint(let file, let reason): return "\(file): \(reason)"
        case .invalidConfiguration(let message), .invalidExpansion(let message): return message
        }
    }
}

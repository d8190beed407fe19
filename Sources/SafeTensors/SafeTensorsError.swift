/// An error raised while reading, validating, serialising or writing a safetensors file.
///
/// The `description` names the file, then the byte offset in the file when one is known,
/// then what was wrong, for example:
/// `weights.safetensors: offset 8: header is not valid JSON: expected ',' or '}' at header byte 57`.
public struct SafeTensorsError: Error, CustomStringConvertible, Equatable {
    /// The file (or other source) the error is about; empty when there is none,
    /// e.g. for a tensor conversion error.
    public let path: String
    /// The byte offset in the file where the problem was found, when there is one.
    public let offset: Int?
    /// A specific explanation of what was wrong or what was expected.
    public let message: String

    /// Creates an error for `path`, optionally at a byte `offset` in the file.
    public init(path: String, offset: Int? = nil, message: String) {
        self.path = path
        self.offset = offset
        self.message = message
    }

    /// `path: offset N: message`, leaving out the parts that are absent.
    public var description: String {
        var parts: [String] = []
        if !path.isEmpty { parts.append(path) }
        if let offset { parts.append("offset \(offset)") }
        parts.append(message)
        return parts.joined(separator: ": ")
    }
}

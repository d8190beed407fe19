/// A rule that failed to load, failed in a call, or returned something the
/// contract does not allow (`rules/README.md`). The message starts with the
/// rule file and, where known, the line:
/// `rules/mine.lua:42: decide returned block 7, the model has 3 blocks`.
public struct RuleError: Error, CustomStringConvertible, Equatable {
    /// The rule file's display path.
    public var file: String
    public var message: String
    /// Lua's stack traceback when the error was raised in Lua code.
    public var traceback: String?

    public init(file: String, message: String, traceback: String? = nil) {
        self.file = file
        self.message = message
        self.traceback = traceback
    }

    public var description: String { traceback.map { "\(message)\n\($0)" } ?? message }
}

/// What one rule may spend: the sandbox's instruction budget and memory cap.
public struct RuleLimits: Equatable, Sendable {
    /// Lua VM instructions one call (or the file's top level) may run before
    /// it fails: the default is about 0.2 s of an endless loop, thousands of
    /// times what the stock rules need. Counted by Lua's count hook, whose
    /// counter is a C int: larger values count as 2,147,483,647, values
    /// below 1 as 1. Time inside a single library call (a pathological
    /// string pattern) is not counted.
    public var instructionsPerCall: Int
    /// Bytes the rule's Lua state may hold, the sandbox's own ~25 KB
    /// included; past it an allocation fails: "rule memory limit (N MiB) exceeded".
    public var memoryBytes: Int

    public init(instructionsPerCall: Int = 50_000_000, memoryBytes: Int = 64 << 20) {
        self.instructionsPerCall = instructionsPerCall
        self.memoryBytes = memoryBytes
    }
}

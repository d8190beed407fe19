/// A function a chunk returned among its table's fields, pinned in the
/// registry so the rule cannot swap it out later.
struct LuaFunction {
    let reference: Int32
    /// The line its definition starts on (nil for a C function): where
    /// messages about what it returned point.
    let line: Int?
}

/// What a chunk returned: its first result, and the functions among that
/// table's string-keyed fields.
struct LuaModule {
    var value: LuaValue
    var functions: [String: LuaFunction]
}

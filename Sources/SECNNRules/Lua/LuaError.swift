/// A failed load or call in a `LuaState`, before the rule layer turns it
/// into a `RuleError`.
struct LuaError: Error {
    /// `rules/x.lua:3: attempt to index a nil value (field 'model')`: Lua's
    /// message, with the chunk's full name where Lua abbreviated it.
    var message: String
    /// The stack traceback the message handler took (`stack traceback:` and
    /// its lines); nil for syntax and memory errors, which Lua reports
    /// without calling the handler.
    var traceback: String?
}

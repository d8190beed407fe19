import CLua
import Foundation

/// One sandboxed Lua interpreter: a fresh `lua_State` per rule with a
/// capped allocator and the sandbox's globals, into which every call is
/// protected (`lua_pcall` with a traceback handler) and budgeted (a count
/// hook).
///
/// No Lua error ever unwinds through Swift: Swift enters Lua code only
/// through `lua_pcall`, and outside those calls uses only API functions that
/// cannot raise, because its own pushes run with the memory cap lifted. Rule
/// code, in turn, runs only inside those calls: the sandbox refuses `__gc`
/// finalizers, the one way Lua would run it during a collection Swift
/// triggers.
///
/// Used from one thread at a time. Package-visible for the fuzz targets
/// (`SECNNFuzzing`), which build returned values through the C API.
package final class LuaState {
    /// The rule file's display path: the chunk name errors carry.
    let chunkName: String
    /// The raw state; only the files of `Lua/` use it.
    package let state: OpaquePointer
    private let guards: UnsafeMutablePointer<LuaGuards>
    private let instructionBudget: Int32
    private let memoryCap: Int
    /// How Lua abbreviates `chunkName` in messages (past 59 bytes, `...` and the tail).
    private var shortSource: String

    package init(chunkName: String, limits: RuleLimits, printPrefix: String) throws {
        self.chunkName = chunkName
        instructionBudget = Int32(clamping: max(1, limits.instructionsPerCall))
        memoryCap = limits.memoryBytes
        guards = .allocate(capacity: 1)
        guards.initialize(to: LuaGuards(byteCap: limits.memoryBytes, printPrefix: printPrefix))
        guard let state = lua_newstate(luaCappedAllocate, guards) else {
            guards.deinitialize(count: 1)
            guards.deallocate()
            throw LuaError(message: "\(chunkName): cannot create a Lua state")
        }
        self.state = state
        guards.pointee.state = state
        shortSource = chunkName
        shortSource = try shortSourceOfChunk()
        try installSandbox()
    }

    deinit {
        lua_close(state)  // runs no rule code: the sandbox allows no finalizers
        guards.deinitialize(count: 1)
        guards.deallocate()
    }

    /// What `print` writes before each line.
    var printPrefix: String {
        get { guards.pointee.printPrefix }
        set { guards.pointee.printPrefix = newValue }
    }

    /// Runs `source` as the rule file's chunk, text only, with `argument` as
    /// its `...`, under the budget and cap. Returns its first result and pins
    /// the functions among a returned table's fields for `call`.
    func run(_ source: String, argument: LuaValue, what: String) throws -> LuaModule {
        try reserveStack(forCallWith: argument)
        try load(source)
        push(argument)
        try protectedCall(arguments: 1, budgeted: what)
        defer { secnn_lua_pop(state, 1) }
        return LuaModule(value: value(at: -1), functions: pinFunctions(ofTableAt: lua_gettop(state)))
    }

    /// Calls a pinned function with one argument under the budget and cap;
    /// returns its first result.
    func call(_ function: LuaFunction, argument: LuaValue, what: String) throws -> LuaValue {
        try reserveStack(forCallWith: argument)
        lua_rawgeti(state, secnn_lua_registryindex(), lua_Integer(function.reference))
        push(argument)
        try protectedCall(arguments: 1, budgeted: what)
        defer { secnn_lua_pop(state, 1) }
        return value(at: -1)
    }

    /// Compiles `source` (text chunks only) and pushes it as a function.
    private func load(_ source: String) throws {
        var source = source
        let status = source.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) {
                luaL_loadbufferx(state, $0.baseAddress, $0.count, "@" + chunkName, "t")
            }
        }
        guard status == LUA_OK else {
            defer { secnn_lua_pop(state, 1) }
            throw LuaError(message: normalised(string(at: -1) ?? "cannot load the file"))
        }
    }

    /// Calls the function under the top `arguments` values with the
    /// traceback handler and leaves its first result on the stack. Rule code
    /// (`budgeted` names what runs, e.g. `decide`) runs under the count hook
    /// and the memory cap; the sandbox's own set-up (nil) runs without them.
    func protectedCall(arguments: Int32, budgeted what: String?) throws {
        let handler = lua_gettop(state) - arguments
        secnn_lua_pushcfunction(state, secnn_rule_message_handler)
        secnn_lua_insert(state, handler)
        if let what {
            guards.pointee.budgetMessage = strdup("\(what) exceeded its budget of \(instructionBudget) instructions")
            guards.pointee.memoryMessage = strdup("\(what): \(memoryLimitExceeded)")
            (guards.pointee.capPassed, guards.pointee.collected) = (false, false)
            guards.pointee.enforcesCap = true
            lua_sethook(state, secnn_rule_hook, LUA_MASKCOUNT, instructionBudget)
        }
        let status = secnn_lua_pcall(state, arguments, 1, handler)
        lua_sethook(state, nil, 0, 0)
        guards.pointee.enforcesCap = false
        free(guards.pointee.budgetMessage)
        free(guards.pointee.memoryMessage)
        (guards.pointee.budgetMessage, guards.pointee.memoryMessage) = (nil, nil)
        secnn_lua_remove(state, handler)
        guard status == LUA_OK else {
            defer { secnn_lua_pop(state, 1) }
            throw error(status: status, raised: string(at: -1), what: what ?? "the sandbox set-up")
        }
    }

    /// The error a failed protected call reports.
    private func error(status: Int32, raised: String?, what: String) -> LuaError {
        if status == LUA_ERRMEM {  // raised without calling the handler, and without a place
            return LuaError(message: "\(chunkName): \(what): \(memoryLimitExceeded)")
        }
        let text = normalised(raised ?? "\(what) failed with an error object Lua could not describe")
        guard let split = text.range(of: "\nstack traceback:") else { return LuaError(message: text) }
        return LuaError(message: String(text[..<split.lowerBound]),
                        traceback: String(text[text.index(after: split.lowerBound)...]))
    }

    /// `text` with Lua's abbreviation of the chunk name spelled out, and the
    /// chunk name in front if Lua put no place there.
    private func normalised(_ text: String) -> String {
        let spelled = shortSource == chunkName ? text : text.replacingOccurrences(of: shortSource, with: chunkName)
        return spelled.hasPrefix(chunkName + ":") ? spelled : "\(chunkName): \(spelled)"
    }

    /// How Lua abbreviates the chunk name: asked of an empty chunk of that name.
    private func shortSourceOfChunk() throws -> String {
        try load("")
        var debug = lua_Debug()
        lua_getinfo(state, ">S", &debug)  // pops the chunk
        return withUnsafeBytes(of: debug.short_src) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    /// The memory error's text after the place and the function.
    private var memoryLimitExceeded: String { "rule memory limit (\(Self.bytes(memoryCap))) exceeded" }

    /// `64 MiB`, `512 KiB`, `1000 bytes`.
    static func bytes(_ count: Int) -> String {
        if count > 0, count % (1 << 20) == 0 { return "\(count >> 20) MiB" }
        if count > 0, count % (1 << 10) == 0 { return "\(count >> 10) KiB" }
        return "\(count) bytes"
    }
}

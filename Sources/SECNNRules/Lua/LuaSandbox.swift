import CLua
import Foundation

/// What a rule's globals are: an explicit allow list over the base library
/// and the four libraries that only compute, three sandbox versions of base
/// functions, and strict globals. Installed in every fresh state before the
/// rule file runs.
enum LuaSandbox {
    /// The standard globals a rule keeps: functions over values and the
    /// libraries `string` (without `dump`), `table`, `math` and `utf8`.
    /// Everything else the opened libraries define is removed.
    static let allowedGlobals: Set<String> = [
        "_G", "_VERSION", "assert", "error", "getmetatable", "ipairs", "next", "pairs", "pcall", "rawequal",
        "rawget", "rawlen", "rawset", "select", "tonumber", "tostring", "type", "xpcall",
        "math", "string", "table", "utf8",
    ]

    /// Standard globals a rule does not get, and why: reading one is an
    /// error that says so (any other unknown global is "undeclared").
    static let deniedGlobals: [String: String] = [
        "io": "it reads and writes files",
        "os": "it runs programs and reaches files, the clock and the environment",
        "require": "it loads code, C libraries included, from disk",
        "package": "it loads code, C libraries included, from disk",
        "debug": "it reaches past every other limit (hooks, the registry, other functions' locals)",
        "dofile": "it runs files",
        "loadfile": "it reads files",
        "collectgarbage": "a rule that stopped the collector would run into its memory cap",
        "coroutine": "a rule runs to completion in each call",
        "warn": "rules write with print",
    ]

    /// Runs once per state, with `emit`, the allow list and the deny list as
    /// its arguments. The three replacements are defined after the removal:
    /// `print` writes to stderr after the rule's name (through `emit`),
    /// `load` compiles text only whatever mode it is asked for (binary
    /// chunks can break the VM), and `setmetatable` refuses `__gc`
    /// finalizers (Lua would run them in any collection, outside the
    /// budgeted calls). `math.random` is seeded, so a rule that draws makes
    /// the same choices run to run.
    static let prelude = """
        local emit, allowed, denied = ...
        local base_load, base_setmetatable = load, setmetatable
        local pack, concat, tostring, type, rawget, error = table.pack, table.concat, tostring, type, rawget, error

        for name in pairs(_G) do
          if not allowed[name] then _G[name] = nil end
        end
        string.dump = nil

        function print(...)
          local parts = pack(...)
          for i = 1, parts.n do parts[i] = tostring(parts[i]) end
          emit(concat(parts, "\\t", 1, parts.n))
        end

        function load(chunk, chunkname, mode, ...)
          return base_load(chunk, chunkname, "t", ...)
        end

        function setmetatable(t, metatable)
          if type(metatable) == "table" and rawget(metatable, "__gc") ~= nil then
            error("setmetatable: rules cannot set __gc finalizers", 2)
          end
          return base_setmetatable(t, metatable)
        end

        math.randomseed(0)

        base_setmetatable(_G, {
          __index = function(_, name)
            if denied[name] then error(("%s is not available to rules: %s"):format(name, denied[name]), 2) end
            error(("undeclared global '%s'"):format(tostring(name)), 2)
          end,
          __metatable = false,
        })
        """
}

extension LuaState {
    /// Opens the libraries and runs the prelude, both protected (opening
    /// allocates) and neither budgeted (neither is rule code).
    func installSandbox() throws {
        secnn_lua_pushcfunction(state, luaOpenLibraries)
        try protectedCall(arguments: 0, budgeted: nil)
        secnn_lua_pop(state, 1)
        let allowed = LuaTable(Dictionary(uniqueKeysWithValues: LuaSandbox.allowedGlobals.map { ($0, .boolean(true)) }))
        let denied = LuaTable(LuaSandbox.deniedGlobals.mapValues(LuaValue.string))
        try reserveStack(7)  // the prelude, its handler, its three arguments, a key and a value
        let prelude = LuaSandbox.prelude
        guard luaL_loadbufferx(state, prelude, prelude.utf8.count, "=sandbox", "t") == LUA_OK else {
            defer { secnn_lua_pop(state, 1) }
            throw LuaError(message: "\(chunkName): the sandbox prelude does not compile: \(string(at: -1) ?? "")")
        }
        secnn_lua_pushcfunction(state, luaEmit)
        push(.table(allowed))
        push(.table(denied))
        try protectedCall(arguments: 3, budgeted: nil)
        secnn_lua_pop(state, 1)
    }
}

/// Opens base, string, table, math and utf8 as globals. A C function run
/// through `lua_pcall`: Swift literals, no Swift references in its frame.
private func luaOpenLibraries(_ state: OpaquePointer?) -> Int32 {
    luaL_requiref(state, "_G", luaopen_base, 1)
    luaL_requiref(state, "string", luaopen_string, 1)
    luaL_requiref(state, "table", luaopen_table, 1)
    luaL_requiref(state, "math", luaopen_math, 1)
    luaL_requiref(state, "utf8", luaopen_utf8, 1)
    return 0
}

/// Where the sandbox's `print` writes: one line to stderr after the rule's
/// name. It calls nothing that can raise, so it may hold Swift values.
private func luaEmit(_ state: OpaquePointer?) -> Int32 {
    var length = 0
    guard lua_type(state, 1) == LUA_TSTRING, let bytes = lua_tolstring(state, 1, &length),
          let guards = LuaGuards.of(state) else { return 0 }
    let line = String(decoding: UnsafeRawBufferPointer(start: bytes, count: length), as: UTF8.self)
    FileHandle.standardError.write(Data("\(guards.pointee.printPrefix): \(line)\n".utf8))
    return 0
}

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

    /// Runs once per state, with `emit`, the allow list, the deny list and
    /// the stock rules' sources as its arguments. Two helpers come first:
    /// `settings(args, defaults)` (a rule's `--rule-arg` settings, each
    /// checked against its default's type, and any name the rule does not
    /// have refused, so a typo is an error rather than a silently ignored
    /// setting) and `stock(name, args)` (a stock rule's table, to derive a
    /// rule from). The four replacements are defined after the removal:
    /// `print` writes to stderr after the rule's name (through `emit`),
    /// `load` compiles text only whatever mode it is asked for (binary
    /// chunks can break the VM), `setmetatable` refuses `__gc` finalizers
    /// (Lua would run them in any collection, outside the budgeted calls),
    /// and `rawset` cannot replace a standard global. `math.random` is
    /// seeded, so a rule that draws makes the same choices run to run.
    ///
    /// Then the standard globals are frozen, so that what one call breaks
    /// the next call still has intact: they move out of `_G` into a table
    /// only its `__index` reads (assigning one is an error), and the four
    /// libraries become read-only views (the string metatable is hidden,
    /// since its `__index` is the real `string` table). A rule's own
    /// globals live in `_G` as usual; `pairs(_G)` lists the standard names,
    /// then the rule's.
    static let prelude = """
        local emit, allowed, denied, stock_sources = ...
        local G = _G
        local base_load, base_setmetatable, base_rawset = load, setmetatable, rawset
        local pack, concat, tostring, type, rawget, error, next = table.pack, table.concat, tostring, type, rawget, error, next
        local sort = table.sort
        local standard = {}

        for name in pairs(G) do
          if not allowed[name] then G[name] = nil end
        end
        string.dump = nil

        local function sorted_names(t)
          local names = {}
          for name in next, t do names[#names + 1] = tostring(name) end
          sort(names)
          return concat(names, ", ")
        end

        function settings(args, defaults)
          if type(args) ~= "table" or type(defaults) ~= "table" then
            error("settings(args, defaults): expected the --rule-arg table and a table of default values", 2)
          end
          local chosen = {}
          for name, default in next, defaults do
            local value = args[name]
            if value == nil then
              value = default
            elseif type(value) ~= type(default) then
              error(("--rule-arg %s=%s: expected a %s"):format(tostring(name), tostring(value), type(default)), 2)
            end
            chosen[name] = value
          end
          for name, value in next, args do
            if defaults[name] == nil then
              error(("--rule-arg %s=%s: the rule has no such setting (its settings: %s)")
                :format(tostring(name), tostring(value), sorted_names(defaults)), 2)
            end
          end
          return chosen
        end

        function stock(name, ...)
          local source = stock_sources[name]
          if source == nil then
            error(("stock: no stock rule %s (stock rules: %s)"):format(tostring(name), sorted_names(stock_sources)), 2)
          end
          return base_load(source, "=rules/" .. name .. " (built in)", "t")(...)
        end

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

        function rawset(t, key, value)
          if t == G and standard[key] ~= nil then
            error(("%s is a standard global; rules cannot replace it"):format(tostring(key)), 2)
          end
          return base_rawset(t, key, value)
        end

        math.randomseed(0)

        local function readonly(name, library)
          return base_setmetatable({}, {
            __index = library,
            __newindex = function(_, key)
              error(("%s.%s cannot be changed: the libraries are shared by every call"):format(name, tostring(key)), 2)
            end,
            __pairs = function() return next, library, nil end,
            __metatable = false,
          })
        end

        for name, value in pairs(G) do standard[name] = value end
        for _, name in ipairs({ "string", "table", "math", "utf8" }) do standard[name] = readonly(name, G[name]) end
        getmetatable("").__metatable = false
        for name in pairs(standard) do G[name] = nil end

        base_setmetatable(G, {
          __index = function(_, name)
            local value = standard[name]
            if value ~= nil then return value end
            if denied[name] then error(("%s is not available to rules: %s"):format(name, denied[name]), 2) end
            error(("undeclared global '%s'"):format(tostring(name)), 2)
          end,
          __newindex = function(t, name, value)
            if standard[name] ~= nil then
              error(("%s is a standard global; rules cannot replace it"):format(tostring(name)), 2)
            end
            base_rawset(t, name, value)
          end,
          __pairs = function(t)
            local inStandard = true
            return function(_, key)
              local value
              if inStandard then
                key, value = next(standard, key)
                if key ~= nil then return key, value end
                inStandard = false
              end
              return next(t, key)
            end, t, nil
          end,
          __metatable = false,
        })
        """
}

extension LuaState {
    /// Opens the libraries and runs the prelude, both protected (opening
    /// allocates) and neither budgeted (neither is rule code).
    func installSandbox() throws {
        secnn_lua_pushcfunction(state, secnn_rule_open_libraries)
        try protectedCall(arguments: 0, budgeted: nil)
        secnn_lua_pop(state, 1)
        let allowed = LuaTable(Dictionary(uniqueKeysWithValues: LuaSandbox.allowedGlobals.map { ($0, .boolean(true)) }))
        let denied = LuaTable(LuaSandbox.deniedGlobals.mapValues(LuaValue.string))
        let stockSources = LuaTable(EmbeddedFiles.byFileName.mapValues { LuaValue.string(String(decoding: $0, as: UTF8.self)) })
        try reserveStack(8)  // the prelude, its handler, its four arguments, a key and a value
        let prelude = LuaSandbox.prelude
        guard luaL_loadbufferx(state, prelude, prelude.utf8.count, "=sandbox", "t") == LUA_OK else {
            defer { secnn_lua_pop(state, 1) }
            throw LuaError(message: "\(chunkName): the sandbox prelude does not compile: \(string(at: -1) ?? "")")
        }
        secnn_lua_pushcfunction(state, luaEmit)
        push(.table(allowed))
        push(.table(denied))
        push(.table(stockSources))
        try protectedCall(arguments: 4, budgeted: nil)
        secnn_lua_pop(state, 1)
    }
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

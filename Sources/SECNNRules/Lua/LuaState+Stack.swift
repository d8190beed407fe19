import CLua

/// Moving values between Swift and the stack, with API functions that
/// cannot raise once the stack has room: reads, and pushes into fresh tables
/// while the memory cap is lifted (outside protected calls it always is).
extension LuaState {
    /// Makes room for `slots` more values, which pushes then fill without
    /// checking (pushing past the stack's end would corrupt memory rather
    /// than raise).
    func reserveStack(_ slots: Int) throws {
        guard lua_checkstack(state, Int32(clamping: slots)) != 0 else {
            throw LuaError(message: "\(chunkName): the Lua stack cannot grow (out of memory)")
        }
    }

    /// Room for a call with `argument`: its function, the message handler,
    /// and while a table is filled, the table and a key per level plus one value.
    func reserveStack(forCallWith argument: LuaValue) throws {
        try reserveStack(2 * argument.nesting + 3)
    }

    /// Pushes `value`: tables as fresh tables, set raw.
    func push(_ value: LuaValue) {
        switch value {
        case .nil, .opaque: lua_pushnil(state)
        case .boolean(let flag): lua_pushboolean(state, flag ? 1 : 0)
        case .integer(let integer): lua_pushinteger(state, lua_Integer(integer))
        case .number(let number): lua_pushnumber(state, number)
        case .string(let string): push(string)
        case .table(let table):
            lua_createtable(state, 0, Int32(clamping: table.entries.count))
            for (key, entry) in table.entries {
                switch key {
                case .integer(let index): lua_pushinteger(state, lua_Integer(index))
                case .string(let name): push(name)
                }
                push(entry)
                lua_rawset(state, -3)
            }
        }
    }

    private func push(_ string: String) {
        var string = string
        string.withUTF8 { bytes in
            _ = lua_pushlstring(state, UnsafeRawPointer(bytes.baseAddress)?.assumingMemoryBound(to: CChar.self), bytes.count)
        }
    }

    /// The value at `index`, tables copied `depth` levels deep (deeper ones
    /// as `.opaque("table")`), without running metamethods.
    package func value(at index: Int32, depth: Int = 2) -> LuaValue {
        let type = lua_type(state, index)
        switch type {
        case LUA_TNIL, LUA_TNONE: return .nil
        case LUA_TBOOLEAN: return .boolean(lua_toboolean(state, index) != 0)
        case LUA_TNUMBER:
            return lua_isinteger(state, index) != 0
                ? .integer(Int(lua_tointegerx(state, index, nil))) : .number(lua_tonumberx(state, index, nil))
        case LUA_TSTRING: return .string(string(at: index) ?? "")
        case LUA_TTABLE where depth > 0 && lua_checkstack(state, 2) != 0:
            return .table(table(at: lua_absindex(state, index), depth: depth - 1))
        default: return .opaque(String(cString: lua_typename(state, type)))
        }
    }

    private func table(at index: Int32, depth: Int) -> LuaTable {
        var table = LuaTable()
        lua_pushnil(state)
        while lua_next(state, index) != 0 {
            let entry = value(at: -1, depth: depth)
            switch value(at: -2, depth: 0) {
            case .integer(let key): table.entries[.integer(key)] = entry
            case .string(let key): table.entries[.string(key)] = entry
            case let key: table.otherKeys.append("\(key.typeDescription) key")
            }
            secnn_lua_pop(state, 1)
        }
        return table
    }

    /// The string at `index` (nil for other types: converting a number in
    /// place would allocate and confuse `lua_next`).
    func string(at index: Int32) -> String? {
        guard lua_type(state, index) == LUA_TSTRING else { return nil }
        var length = 0
        guard let bytes = lua_tolstring(state, index, &length) else { return nil }
        return String(decoding: UnsafeRawBufferPointer(start: bytes, count: length), as: UTF8.self)
    }

    /// Pins the functions among the string-keyed fields of the table at
    /// `index` (an absolute index) in the registry.
    func pinFunctions(ofTableAt index: Int32) -> [String: LuaFunction] {
        guard lua_type(state, index) == LUA_TTABLE, lua_checkstack(state, 4) != 0 else { return [:] }
        var functions: [String: LuaFunction] = [:]
        lua_pushnil(state)
        while lua_next(state, index) != 0 {
            if lua_type(state, -1) == LUA_TFUNCTION, let name = string(at: -2) {
                var debug = lua_Debug()
                lua_pushvalue(state, -1)
                lua_getinfo(state, ">S", &debug)  // pops the copy
                lua_pushvalue(state, -1)
                let reference = luaL_ref(state, secnn_lua_registryindex())  // pops the copy
                let line = debug.linedefined > 0 ? Int(debug.linedefined) : nil
                functions[name] = LuaFunction(reference: reference, line: line)
            }
            secnn_lua_pop(state, 1)
        }
        return functions
    }
}

extension LuaValue {
    /// Levels of tables (0 for other values).
    var nesting: Int {
        guard case .table(let table) = self else { return 0 }
        return 1 + (table.entries.values.map(\.nesting).max() ?? 0)
    }
}

import CLua

/// Builds a Lua value on a state's stack from fuzz input read as a tiny
/// program, one instruction per byte (its value modulo the count), so that
/// mutations of the input make every kind of value a rule could return:
/// integers at the extremes, NaN and infinities, strings with any bytes,
/// tables keyed by anything (booleans, fractions, tables), shared and
/// cyclic tables, functions and userdata. Runs with the memory cap lifted;
/// only API calls that cannot raise when the stack has room are used.
struct LuaValueProgram {
    /// The most values the stack holds at once; pushes past it are skipped.
    static let stackLimit: Int32 = 64
    /// The field names and op names rules use, so that mutation finds them.
    static let words = ["block", "op", "channels", "layer", "widen", "1", ""]

    var input: ArraySlice<UInt8>

    /// Runs the program on `state`, leaving exactly one value (nil for an empty stack) on top of what was there.
    mutating func build(on state: OpaquePointer) {
        let base = lua_gettop(state)
        guard lua_checkstack(state, Self.stackLimit + 4) != 0 else { return lua_pushnil(state) }
        while let instruction = input.popFirst() {
            let height = lua_gettop(state) - base
            switch instruction % 10 {
            case 0 where height < Self.stackLimit: lua_pushnil(state)
            case 1 where height < Self.stackLimit: lua_pushboolean(state, Int32(next() & 1))
            case 2 where height < Self.stackLimit: lua_pushinteger(state, lua_Integer(bitPattern: nextWord()))
            case 3 where height < Self.stackLimit: lua_pushnumber(state, Double(bitPattern: nextWord()))
            case 4 where height < Self.stackLimit: lua_pushinteger(state, lua_Integer(Int8(bitPattern: next())))
            case 5 where height < Self.stackLimit: pushString(on: state)
            case 6 where height < Self.stackLimit: lua_createtable(state, 0, 0)
            case 7 where height < Self.stackLimit:
                // A copy of a value already built: shared tables, and cycles once stored inside themselves.
                if height > 0 { lua_pushvalue(state, base + 1 + Int32(next()) % height) }
            case 8 where height < Self.stackLimit:
                switch next() % 3 {
                case 0: lua_pushcclosure(state, { _ in 0 }, 0)
                case 1: _ = lua_newuserdatauv(state, 8, 0)
                default: lua_pushnumber(state, [Double.nan, .infinity, -.infinity, -0.0, 0x1p63][Int(next()) % 5])
                }
            case 9:
                // t[k] = v for the top three values t, k, v (set raw; a nil or NaN key drops the pair).
                if height >= 3, lua_type(state, -3) == LUA_TTABLE, isUsableKey(state, -2) {
                    lua_rawset(state, -3)
                } else if height >= 1 {
                    secnn_lua_pop(state, 1)
                }
            default: break
            }
        }
        if lua_gettop(state) == base { lua_pushnil(state) }
        // The value a rule returned is its first result: the bottom one.
        secnn_lua_insert(state, base + 1)
        lua_settop(state, base + 1)
    }

    private func isUsableKey(_ state: OpaquePointer, _ index: Int32) -> Bool {
        switch lua_type(state, index) {
        case LUA_TNIL: false
        case LUA_TNUMBER: lua_isinteger(state, index) != 0 || !lua_tonumberx(state, index, nil).isNaN
        default: true
        }
    }

    private mutating func next() -> UInt8 { input.popFirst() ?? 0 }

    private mutating func nextWord() -> UInt64 {
        (0..<8).reduce(0) { word, _ in word << 8 | UInt64(next()) }
    }

    /// A known word, or up to 255 raw bytes (any bytes: invalid UTF-8, NULs).
    private mutating func pushString(on state: OpaquePointer) {
        let length = Int(next())
        if length < Self.words.count {
            _ = lua_pushstring(state, Self.words[length])
            return
        }
        let bytes = Array(input.prefix(length - Self.words.count))
        input = input.dropFirst(bytes.count)
        bytes.withUnsafeBytes { raw in
            _ = lua_pushlstring(state, raw.baseAddress?.assumingMemoryBound(to: CChar.self), raw.count)
        }
    }
}

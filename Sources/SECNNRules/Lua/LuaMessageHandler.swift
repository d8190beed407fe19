import CLua

/// The message handler of every protected call: Lua's message with a stack
/// traceback appended, as `lua.c` does. It lifts the memory cap while it
/// works, so it cannot raise through its Swift frame, and names non-string
/// error objects by type rather than calling their `__tostring` (rule code).
func luaMessageHandler(_ state: OpaquePointer?) -> Int32 {
    let guards = LuaGuards.of(state)
    let enforced = guards?.pointee.enforcesCap ?? false
    guards?.pointee.enforcesCap = false
    defer { guards?.pointee.enforcesCap = enforced }
    let type = lua_type(state, 1)
    if type == LUA_TSTRING || type == LUA_TNUMBER {
        luaL_traceback(state, state, lua_tolstring(state, 1, nil), 1)
    } else {
        let name = String(cString: lua_typename(state, type))
        luaL_traceback(state, state, "(error object is a \(name) value)", 1)
    }
    return 1
}

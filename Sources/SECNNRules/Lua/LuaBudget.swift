import CLua

/// The count hook that enforces the instruction budget of a protected call.
///
/// `LuaState` installs it with the budget as the count, so its first call
/// means the budget is spent. It then re-installs itself to fire on every
/// instruction, so a rule that catches the error with `pcall` cannot carry
/// on: its next instruction raises again, until the error reaches the call
/// Swift made. The error is raised with `lua_error`, which the manual allows
/// in count hooks; everything before it touches only Lua's stack and the
/// shared `LuaGuards`, so the longjmp leaves nothing unreleased.
func luaBudgetHook(_ state: OpaquePointer?, _ debug: UnsafeMutablePointer<lua_Debug>?) {
    guard let guards = LuaGuards.of(state) else { return }
    // The message must not fail for lack of memory: rule code can no longer run.
    guards.pointee.enforcesCap = false
    lua_sethook(state, luaBudgetHook, LUA_MASKCOUNT, 1)
    luaL_where(state, 0)
    lua_pushstring(state, guards.pointee.budgetMessage)
    lua_concat(state, 2)
    lua_error(state)
}

import CLua

// The Swift halves of the C callbacks in CLua's shim.h. Each returns a
// value and raises nothing: the C side does the raising, so no longjmp ever
// crosses a Swift frame.

/// For `secnn_rule_hook`: the message to stop with, or nil. Past the memory
/// cap the memory message wins (the budget may not be spent yet); either
/// way the hook fires again at the next instruction, so `pcall` in the rule
/// cannot carry on.
@_cdecl("secnn_rule_stop_message")
func ruleStopMessage(_ state: OpaquePointer?) -> UnsafePointer<CChar>? {
    guard let guards = LuaGuards.of(state) else { return nil }
    guards.pointee.enforcesCap = false
    lua_sethook(state, secnn_rule_hook, LUA_MASKCOUNT, 1)
    return UnsafePointer(guards.pointee.capPassed ? guards.pointee.memoryMessage : guards.pointee.budgetMessage)
}

/// For `secnn_rule_message_handler`: lifts the cap, returns whether it was on.
@_cdecl("secnn_rule_lift_memory_cap")
func ruleLiftMemoryCap(_ state: OpaquePointer?) -> Int32 {
    guard let guards = LuaGuards.of(state) else { return 0 }
    defer { guards.pointee.enforcesCap = false }
    return guards.pointee.enforcesCap ? 1 : 0
}

/// For `secnn_rule_message_handler`: restores what `ruleLiftMemoryCap` found.
@_cdecl("secnn_rule_restore_memory_cap")
func ruleRestoreMemoryCap(_ state: OpaquePointer?, _ enforced: Int32) {
    LuaGuards.of(state)?.pointee.enforcesCap = enforced != 0
}

import CLua

/// What the C callbacks of one Lua state share: the allocator's account and
/// cap, the count hook's budget message, `print`'s prefix.
///
/// It lives at a fixed address for the state's lifetime and the callbacks
/// reach it through the allocator's user data (`lua_getallocf`), so they
/// hold no Swift references: the hook ends in `lua_error`, which longjmps
/// through its frame, and nothing may be left to release there.
struct LuaGuards {
    /// Bytes the state holds now.
    var bytesInUse = 0
    /// The cap the allocator enforces while `enforcesCap` is set.
    var byteCap: Int
    /// Set only while rule code runs: Swift's own pushes (the `ctx` table,
    /// registry references) must never fail, because a Lua error raised
    /// outside a protected call would abort the process.
    var enforcesCap = false
    /// `decide exceeded its budget of N instructions`, owned (`strdup`) for
    /// the duration of one protected call.
    var budgetMessage: UnsafeMutablePointer<CChar>?
    /// What `print` writes before each line: the rule's name.
    var printPrefix: String

    init(byteCap: Int, printPrefix: String) {
        self.byteCap = byteCap
        self.printPrefix = printPrefix
    }

    /// The shared guards of `state`.
    static func of(_ state: OpaquePointer?) -> UnsafeMutablePointer<LuaGuards>? {
        var userData: UnsafeMutableRawPointer?
        _ = lua_getallocf(state, &userData)
        return userData?.assumingMemoryBound(to: LuaGuards.self)
    }
}

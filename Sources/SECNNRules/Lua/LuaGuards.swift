import CLua

/// What the callbacks of one Lua state share: the allocator's account and
/// cap, the messages a budgeted call stops with, `print`'s prefix.
///
/// It lives at a fixed address for the state's lifetime and the callbacks
/// reach it through the allocator's user data (`lua_getallocf`), so they
/// hold no Swift references.
struct LuaGuards {
    /// The state itself, for the allocator (which Lua calls without it).
    var state: OpaquePointer?
    /// Bytes the state holds now.
    var bytesInUse = 0
    /// The cap the allocator enforces while `enforcesCap` is set. Passing it
    /// stops the rule at its next instruction, with the line; an allocation
    /// that would pass `hardCap` fails at once (Lua's memory error, no line).
    var byteCap: Int
    /// An eighth past the cap: room for the instructions until the rule stops.
    var hardCap: Int { byteCap + byteCap / 8 }
    /// Set only while rule code runs: Swift's own pushes (the `ctx` table,
    /// registry references) must never fail, because a Lua error raised
    /// outside a protected call would abort the process.
    var enforcesCap = false
    /// Whether the running call has passed `byteCap`.
    var capPassed = false
    /// Whether the allocator has just refused growth past `byteCap`, so that
    /// the next request is Lua's retry after its emergency collection.
    var collected = false
    /// `decide exceeded its budget of N instructions` and `decide: rule
    /// memory limit (8 MiB) exceeded`, owned (`strdup`) for the duration of
    /// one budgeted call.
    var budgetMessage: UnsafeMutablePointer<CChar>?
    var memoryMessage: UnsafeMutablePointer<CChar>?
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

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
import CLua

/// The state's `lua_Alloc`: `realloc`/`free` with a byte count and, while
/// rule code runs, a cap in two steps. Growth past `byteCap` is refused
/// once, so that Lua runs an emergency collection and asks again; if the
/// second request still passes it, it is granted but the count hook is armed
/// to stop the rule at its next instruction with
/// `FILE:LINE: decide: rule memory limit (8 MiB) exceeded`. Growth past
/// `hardCap` (one huge `string.rep`, or a C function that keeps allocating)
/// is refused outright, which Lua turns into its own memory error, without
/// a line. Either way the call ends cleanly and the state stays usable.
///
/// Per the manual, `osize` is the block's size only when `block` is non-NULL
/// (otherwise it encodes the kind of object), and shrinking must not fail.
/// Arming the hook only sets fields of the state, which is safe in the
/// middle of any allocation.
func luaCappedAllocate(
    _ userData: UnsafeMutableRawPointer?, _ block: UnsafeMutableRawPointer?, _ osize: Int, _ nsize: Int
) -> UnsafeMutableRawPointer? {
    let guards = userData?.assumingMemoryBound(to: LuaGuards.self)
    let oldSize = block == nil ? 0 : osize
    guard nsize > 0 else {
        free(block)
        guards?.pointee.bytesInUse -= oldSize
        return nil
    }
    if let guards, guards.pointee.enforcesCap, nsize > oldSize {
        let total = guards.pointee.bytesInUse - oldSize + nsize
        if total > guards.pointee.byteCap {
            // Refused once, Lua collects garbage and asks again at once.
            if total > guards.pointee.hardCap || !guards.pointee.collected {
                guards.pointee.collected = true
                return nil
            }
            if !guards.pointee.capPassed {
                guards.pointee.capPassed = true
                lua_sethook(guards.pointee.state, secnn_rule_hook, LUA_MASKCOUNT, 1)
            }
        }
        guards.pointee.collected = false
    }
    guard let grown = realloc(block, nsize) else { return nil }
    guards?.pointee.bytesInUse += nsize - oldSize
    return grown
}

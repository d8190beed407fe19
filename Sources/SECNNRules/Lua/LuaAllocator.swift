#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// The state's `lua_Alloc`: `realloc`/`free` with a byte count, refusing
/// (NULL) any growth past the cap while rule code runs. Lua turns a refusal
/// into its own "not enough memory" error after an emergency collection, so
/// a memory bomb ends the call cleanly and the state stays usable.
///
/// Per the manual, `osize` is the block's size only when `block` is non-NULL
/// (otherwise it encodes the kind of object), and shrinking must not fail.
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
    if let guards, guards.pointee.enforcesCap, nsize > oldSize,
       guards.pointee.bytesInUse - oldSize + nsize > guards.pointee.byteCap {
        return nil
    }
    guard let grown = realloc(block, nsize) else { return nil }
    guards?.pointee.bytesInUse += nsize - oldSize
    return grown
}

// Lua 5.4 from Debian's liblua5.4-dev. Lua's API is partly C macros, which
// Swift cannot call; each static inline function below wraps one macro.
// No Swift API of its own.
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

/// The LUA_RELEASE string, e.g. "Lua 5.4.4" (a macro in lua.h).
static inline const char *secnn_lua_release(void) { return LUA_RELEASE; }

/// LUA_REGISTRYINDEX, the registry's pseudo-index (a macro over LUAI_MAXSTACK).
static inline int secnn_lua_registryindex(void) { return LUA_REGISTRYINDEX; }

/// lua_pcall: a protected call without a continuation (a macro over lua_pcallk).
static inline int secnn_lua_pcall(lua_State *L, int nargs, int nresults, int msgh) { return lua_pcall(L, nargs, nresults, msgh); }

/// lua_pop: drops the top n values (a macro over lua_settop).
static inline void secnn_lua_pop(lua_State *L, int n) { lua_pop(L, n); }

/// lua_pushcfunction: a C function without upvalues (a macro over lua_pushcclosure).
static inline void secnn_lua_pushcfunction(lua_State *L, lua_CFunction f) { lua_pushcfunction(L, f); }

/// lua_insert: moves the top value to idx (a macro over lua_rotate).
static inline void secnn_lua_insert(lua_State *L, int idx) { lua_insert(L, idx); }

/// lua_remove: removes the value at idx (a macro over lua_rotate and lua_settop).
static inline void secnn_lua_remove(lua_State *L, int idx) { lua_remove(L, idx); }

// The C functions secnn hands to Lua that may raise a Lua error. Lua raises
// with longjmp, which must never cross a Swift frame, so these are C: the
// Swift they need is a plain call (implemented with @_cdecl in SECNNRules'
// Lua/LuaCallbacks.swift) that returns before anything can raise.

/// Implemented in Swift: the message a budgeted call must stop with now
/// (its instruction budget spent, or its memory cap passed), or NULL to
/// carry on. When it returns a message it has lifted the memory cap (so the
/// message itself can be built) and re-armed the hook for every
/// instruction, so a `pcall` in the rule cannot swallow the error.
extern const char *secnn_rule_stop_message(lua_State *L);

/// Implemented in Swift: lifts the memory cap and returns whether it was on.
extern int secnn_rule_lift_memory_cap(lua_State *L);

/// Implemented in Swift: puts the memory cap back as `secnn_rule_lift_memory_cap` found it.
extern void secnn_rule_restore_memory_cap(lua_State *L, int enforced);

/// Pushes "FILE:LINE: " for the innermost frame of the rule's own file
/// (chunk names starting with '@'), skipping the sandbox's helpers and C
/// functions; pushes "" when no such frame is running.
static inline void secnn_rule_where(lua_State *L) {
    lua_Debug ar;
    for (int level = 0; lua_getstack(L, level, &ar); level++) {
        lua_getinfo(L, "Sl", &ar);
        if (ar.source[0] == '@' && ar.currentline > 0) {
            lua_pushfstring(L, "%s:%d: ", ar.short_src, ar.currentline);
            return;
        }
    }
    lua_pushliteral(L, "");
}

/// The count hook of a budgeted call: raises "FILE:LINE: MESSAGE" when
/// `secnn_rule_stop_message` says so (the manual allows count hooks to raise).
static inline void secnn_rule_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    const char *message = secnn_rule_stop_message(L);
    if (message == NULL) return;
    secnn_rule_where(L);
    lua_pushstring(L, message);
    lua_concat(L, 2);
    lua_error(L);
}

/// The message handler of every protected call: the error with a stack
/// traceback appended, as lua.c does, built with the memory cap lifted.
/// Non-string error objects are named by type, never passed to their
/// `__tostring` (which would be rule code).
static inline int secnn_rule_message_handler(lua_State *L) {
    int enforced = secnn_rule_lift_memory_cap(L);
    const char *message = lua_type(L, 1) == LUA_TSTRING || lua_type(L, 1) == LUA_TNUMBER
        ? lua_tostring(L, 1)
        : lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    luaL_traceback(L, L, message, 1);
    secnn_rule_restore_memory_cap(L, enforced);
    return 1;
}

/// Opens the libraries the sandbox starts from (base, string, table, math,
/// utf8) as globals; run through lua_pcall, since opening allocates.
static inline int secnn_rule_open_libraries(lua_State *L) {
    luaL_requiref(L, "_G", luaopen_base, 1);
    luaL_requiref(L, "string", luaopen_string, 1);
    luaL_requiref(L, "table", luaopen_table, 1);
    luaL_requiref(L, "math", luaopen_math, 1);
    luaL_requiref(L, "utf8", luaopen_utf8, 1);
    lua_settop(L, 0);
    return 0;
}

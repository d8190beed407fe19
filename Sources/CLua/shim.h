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

// Lua 5.4 from Debian's liblua5.4-dev. Lua's API is partly C macros, which
// Swift cannot call; each static inline function below wraps one macro.
// No Swift API of its own.
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>

/// The LUA_RELEASE string, e.g. "Lua 5.4.4" (a macro in lua.h).
static inline const char *secnn_lua_release(void) { return LUA_RELEASE; }

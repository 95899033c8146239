/** Test helper: runs Lua 5.3 code in a fengari state and returns its results as strings. */
// biome-ignore lint/suspicious/noExplicitAny: fengari ships no types
const fengari: any = require("fengari");
const { lua, lauxlib, lualib, to_luastring } = fengari;

export interface LuaState {
  /** Runs a chunk; returns its results converted with tostring, or throws the Lua error message. */
  run(code: string, chunkname?: string): string[];
}

export function newLuaState(): LuaState {
  const L = lauxlib.luaL_newstate();
  lualib.luaL_openlibs(L);
  return {
    run(code, chunkname = "=bundle") {
      lua.lua_settop(L, 0);
      let status = lauxlib.luaL_loadbuffer(L, to_luastring(code), null, to_luastring(chunkname));
      if (status === lua.LUA_OK) status = lua.lua_pcall(L, 0, lua.LUA_MULTRET, 0);
      if (status !== lua.LUA_OK) throw new Error(lua.lua_tojsstring(L, -1));
      const out: string[] = [];
      const n = lua.lua_gettop(L);
      for (let i = 1; i <= n; i++) {
        lauxlib.luaL_tolstring(L, i);
        out.push(lua.lua_tojsstring(L, -1));
        lua.lua_pop(L, 1);
      }
      lua.lua_settop(L, 0);
      return out;
    },
  };
}

/**
 * Test helper: real Lua 5.3 (PUC-Rio Lua 5.3.6 compiled to WebAssembly, the npm package
 * lua-wasm-bindings), for code that needs what aos's Lua and a native `lua5.3` have and fengari lacks:
 * 64-bit integers (fengari's are 32-bit, so the registry's timestamps and SHA-256 would be wrong).
 *
 * The package binds only a few C functions, and copies each string argument onto a C stack of a few
 * MiB: text goes in as pieces, joined inside Lua, and results come back as one string each.
 */
import { LUA_OK } from "lua-wasm-bindings/dist/lua";
import { lauxlib, lua, lualib } from "lua-wasm-bindings/dist/lua.53";

export interface Lua53 {
  /** Sets the global `name` to `text`. */
  setString(name: string, text: string): void;
  /** Runs a chunk; returns its first result as `tostring` gives it, or throws the Lua error message. */
  run(code: string, chunkname?: string): string;
  close(): void;
}

const PIECE = 16_384; // UTF-16 units per piece: at most 64 KiB of UTF-8 on the C stack

/** `text` cut into pieces that never split a surrogate pair. */
function pieces(text: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; ) {
    let end = Math.min(i + PIECE, text.length);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--;
    out.push(text.slice(i, end));
    i = end;
  }
  return out;
}

export function newLua53(): Lua53 {
  const L = lauxlib.luaL_newstate();
  lualib.luaL_openlibs(L);
  const doString = (code: string) => {
    lua.lua_settop(L, 0);
    const status = lauxlib.luaL_dostring(L, code);
    const top = lua.lua_gettop(L) > 0 ? lua.lua_tostring(L, -1) : "";
    lua.lua_settop(L, 0);
    if (status !== LUA_OK) throw new Error(top);
    return top;
  };
  const self: Lua53 = {
    setString(name, text) {
      doString("__lua53_pieces = {}");
      const parts = pieces(text);
      parts.forEach((part, i) => {
        lua.lua_getglobal(L, "__lua53_pieces");
        lua.lua_pushstring(L, part);
        lua.lua_setfield(L, -2, String(i + 1));
        lua.lua_settop(L, 0);
      });
      doString(
        `local p, t = __lua53_pieces, {} __lua53_pieces = nil ` +
          `for i = 1, ${parts.length} do t[i] = p[tostring(i)] end ${name} = table.concat(t)`,
      );
    },
    run(code, chunkname = "chunk") {
      self.setString("__lua53_chunk", code);
      return doString(
        `local f, e = load(__lua53_chunk, ${JSON.stringify(`=${chunkname}`)}) __lua53_chunk = nil ` +
          "if not f then error(e, 0) end return tostring((f()))",
      );
    },
    close: () => lua.lua_close(L),
  };
  return self;
}

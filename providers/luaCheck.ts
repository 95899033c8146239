/**
 * Compiles Lua with a real Lua 5.3 compiler (fengari, a Lua 5.3 VM in JavaScript) without running it.
 * aos is Lua 5.3, so 5.4-only syntax such as `local x <const> = 1` is an error here too.
 * Runs inside Pulumi's dynamic-provider host (no Node flags, no network, no files): `check` compiles
 * the code it is given; and in the program, bundle.ts compiles each file as it reads it, so that an
 * error names the file and its line.
 */
import { namedError } from "./errors";
import { luaVersionHint } from "./luaVersionHint";

export interface LuaSyntaxError {
  file: string;
  line: number;
  message: string;
  /** What to change when the error is Lua 5.4 syntax (luaVersionHint.ts). */
  hint?: string;
}

export const formatLuaError = (e: LuaSyntaxError) =>
  `${e.file}:${e.line}: ${e.message}${e.hint ? ` (${e.hint})` : ""}`;

/** The error with its Lua 5.4 hint, from the line it points at in `lines` (1-based `line`). */
function withHint<T extends { line: number; message: string }>(
  err: T,
  lines: string[],
): T & { hint?: string } {
  const hint = luaVersionHint(err.message, lines[err.line - 1]);
  return hint ? { ...err, hint } : err;
}

/** Compiles one chunk; returns the error (line relative to the chunk) or undefined. */
function compile(source: string): { line: number; message: string } | undefined {
  // Required here, not at the top: keeps the provider closure free of captured module state.
  const { lua, lauxlib, to_luastring } = require("fengari");
  const L = lauxlib.luaL_newstate();
  // A short chunk name: Lua truncates long ones in messages. Parsed back to a line just below.
  const status = lauxlib.luaL_loadbuffer(L, to_luastring(source), null, to_luastring("=c"));
  if (status === lua.LUA_OK) return undefined;
  const raw: string = lua.lua_tojsstring(L, -1);
  const m = /^c:(\d+): ([\s\S]*)$/.exec(raw);
  return m ? { line: Number(m[1]), message: m[2]! } : { line: 0, message: raw };
}

/** The code's syntax error, if any, as `file:line: message` (a chunk stops compiling at its first). */
export function luaCheck(code: string, file = "process.lua"): LuaSyntaxError[] {
  const err = compile(code);
  return err ? [{ file, ...withHint(err, code.split("\n")) }] : [];
}

export const luaSyntaxCheckError = (errors: LuaSyntaxError[]) =>
  namedError(
    "LuaSyntaxCheckError",
    `Lua syntax error (Lua 5.3, as aos runs):\n${errors.map(formatLuaError).join("\n")}`,
    {
      errors,
    },
  );

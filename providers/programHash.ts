/**
 * The program hash: what the Lua code *does*, without its comments and layout. `codeSha256` (the
 * sha256 of the text, what `Code-Sha256` proves) changes with any edit; this one only when the parse
 * tree does, so that a comment or whitespace edit loads the code into the same process (an Eval that
 * keeps its state and makes `Code-Sha256` report the new text) instead of spawning a new one.
 *
 * The value names how it was computed (the parser and its version): a diff compares two program hashes
 * only when they were computed the same way, so changing the method never makes two different
 * programs look equal, and never by itself replaces a process (the text's hash decides then).
 */
import { sha256Hex } from "./hash";

/** luaparse's version is pinned in package.json; its tree's shape is part of the method. */
export const PROGRAM_HASH_METHOD = "lua5.3-ast/luaparse-0.3.1";

export function programSha256(code: string): string {
  // Required here, not at the top: keeps the provider closure free of captured module state.
  const luaparse = require("luaparse") as typeof import("luaparse");
  const tree = luaparse.parse(code, {
    luaVersion: "5.3",
    comments: false,
    locations: false,
    ranges: false,
    scope: false,
    encodingMode: "x-user-defined",
  });
  return `${PROGRAM_HASH_METHOD}:${sha256Hex(JSON.stringify(tree))}`;
}

/** Whether two program hashes say the same program: both present and computed the same way. Pure. */
export function sameProgram(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b) return false;
  const method = (h: string) => h.slice(0, h.lastIndexOf(":"));
  return method(a) === method(b) && a === b;
}

/**
 * The `require` calls of a Lua 5.3 chunk, read from a real parse tree (luaparse, Lua 5.3 mode): calls
 * in comments and strings are not calls, and a call inside any function body does not run when the
 * chunk loads. Runs in the program only (bundle.ts), never in the provider host.
 */
import * as luaparse from "luaparse";

export interface RequireCall {
  /** The module name when the argument is a string literal; undefined for a dynamic require. */
  name?: string;
  line: number;
  /** True when the call is outside every function body, i.e. it runs when the chunk loads. */
  atLoadTime: boolean;
}

type Node = { type?: string; loc?: { start: { line: number } } } & Record<string, unknown>;

const isRequire = (base: unknown) =>
  (base as Node | undefined)?.type === "Identifier" && (base as { name?: string }).name === "require";

const literal = (arg: unknown): string | undefined =>
  (arg as Node | undefined)?.type === "StringLiteral"
    ? ((arg as { value?: string }).value ?? undefined)
    : undefined;

/** Finds `require "x"`, `require 'x'`, `require [[x]]`, `require("x")` and dynamic requires, in source order. */
export function findRequires(source: string): RequireCall[] {
  const chunk = luaparse.parse(source, {
    luaVersion: "5.3",
    locations: true,
    comments: false,
    scope: false,
    encodingMode: "x-user-defined",
  }) as unknown as Node;
  const calls: RequireCall[] = [];
  const walk = (node: unknown, functionDepth: number): void => {
    if (Array.isArray(node)) {
      for (const n of node) walk(n, functionDepth);
      return;
    }
    if (!node || typeof node !== "object") return;
    const n = node as Node;
    const line = n.loc?.start.line ?? 0;
    const atLoadTime = functionDepth === 0;
    if (n.type === "CallExpression" && isRequire(n.base)) {
      const args = n.arguments as unknown[];
      const name = args.length === 1 ? literal(args[0]) : undefined;
      calls.push(name === undefined ? { line, atLoadTime } : { name, line, atLoadTime });
    } else if (n.type === "StringCallExpression" && isRequire(n.base)) {
      const name = literal(n.argument);
      calls.push(name === undefined ? { line, atLoadTime } : { name, line, atLoadTime });
    } else if (n.type === "TableCallExpression" && isRequire(n.base)) {
      calls.push({ line, atLoadTime });
    }
    const depth = n.type === "FunctionDeclaration" ? functionDepth + 1 : functionDepth;
    for (const [k, v] of Object.entries(n)) if (k !== "loc" && k !== "range") walk(v, depth);
  };
  walk(chunk, 0);
  return calls.sort((a, b) => a.line - b.line);
}

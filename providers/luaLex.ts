/**
 * A minimal Lua 5.3 tokenizer: just enough to find `require` calls outside comments and strings
 * and to tell whether they run at load time (outside any function body). It is not a parser;
 * syntax errors are the job of luaCheck (a real Lua compiler).
 */

export interface Token {
  kind: "name" | "string" | "number" | "op";
  value: string;
  line: number;
}

const isNameStart = (c: string) => /[A-Za-z_]/.test(c);
const isNameChar = (c: string) => /[A-Za-z0-9_]/.test(c);

/** Length of the opening long bracket `[==[` at i, or -1 when there is none. Returns the level. */
function longBracketLevel(src: string, i: number): number {
  if (src[i] !== "[") return -1;
  let j = i + 1;
  while (src[j] === "=") j++;
  return src[j] === "[" ? j - i - 1 : -1;
}

const SIMPLE_ESCAPES: Record<string, string> = {
  n: "\n",
  t: "\t",
  r: "\r",
  a: "\x07",
  b: "\b",
  f: "\f",
  v: "\v",
  "\\": "\\",
  '"': '"',
  "'": "'",
};

export function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  const n = src.length;
  const countLines = (s: string) => {
    for (const c of s) if (c === "\n") line++;
  };
  // A shebang line is allowed at the very start of a chunk.
  if (src.startsWith("#")) {
    while (i < n && src[i] !== "\n") i++;
  }
  while (i < n) {
    const c = src[i]!;
    if (c === "\n") {
      line++;
      i++;
      continue;
    }
    if (c === " " || c === "\t" || c === "\r" || c === "\f" || c === "\v") {
      i++;
      continue;
    }
    if (c === "-" && src[i + 1] === "-") {
      const level = longBracketLevel(src, i + 2);
      if (level >= 0) {
        const close = `]${"=".repeat(level)}]`;
        const end = src.indexOf(close, i + 2 + level + 2);
        const stop = end < 0 ? n : end + close.length;
        countLines(src.slice(i, stop));
        i = stop;
      } else {
        while (i < n && src[i] !== "\n") i++;
      }
      continue;
    }
    const level = longBracketLevel(src, i);
    if (level >= 0) {
      const startLine = line;
      const open = level + 2;
      const close = `]${"=".repeat(level)}]`;
      const end = src.indexOf(close, i + open);
      const stop = end < 0 ? n : end;
      let value = src.slice(i + open, stop);
      if (value.startsWith("\r\n")) value = value.slice(2);
      else if (value.startsWith("\n")) value = value.slice(1);
      countLines(src.slice(i, end < 0 ? n : end + close.length));
      i = end < 0 ? n : end + close.length;
      tokens.push({ kind: "string", value, line: startLine });
      continue;
    }
    if (c === '"' || c === "'") {
      const startLine = line;
      let value = "";
      i++;
      while (i < n && src[i] !== c) {
        const d = src[i]!;
        if (d === "\n") break; // unfinished string: the compiler reports it
        if (d === "\\") {
          const e = src[i + 1] ?? "";
          if (e in SIMPLE_ESCAPES) {
            value += SIMPLE_ESCAPES[e];
            i += 2;
          } else if (e === "\n") {
            value += "\n";
            line++;
            i += 2;
          } else if (e === "z") {
            i += 2;
            while (i < n && /\s/.test(src[i]!)) {
              if (src[i] === "\n") line++;
              i++;
            }
          } else {
            // \ddd, \xXX, \u{...}: kept raw; module names never use them.
            value += d + e;
            i += 2;
          }
          continue;
        }
        value += d;
        i++;
      }
      i++; // closing quote
      tokens.push({ kind: "string", value, line: startLine });
      continue;
    }
    if (isNameStart(c)) {
      let j = i + 1;
      while (j < n && isNameChar(src[j]!)) j++;
      tokens.push({ kind: "name", value: src.slice(i, j), line });
      i = j;
      continue;
    }
    if (/[0-9]/.test(c) || (c === "." && /[0-9]/.test(src[i + 1] ?? ""))) {
      let j = i + 1;
      while (j < n) {
        const d = src[j]!;
        if (/[eEpP]/.test(d) && /[+-]/.test(src[j + 1] ?? "")) j += 2;
        else if (/[0-9A-Za-z_.]/.test(d)) j++;
        else break;
      }
      tokens.push({ kind: "number", value: src.slice(i, j), line });
      i = j;
      continue;
    }
    // Operators: only `.`, `:`, `(`, `)` matter to us; `..` and `...` are kept whole so that
    // `x .. require` is not mistaken for a field access.
    if (c === "." && src[i + 1] === ".") {
      const len = src[i + 2] === "." ? 3 : 2;
      tokens.push({ kind: "op", value: src.slice(i, i + len), line });
      i += len;
      continue;
    }
    if (c === ":" && src[i + 1] === ":") {
      tokens.push({ kind: "op", value: "::", line });
      i += 2;
      continue;
    }
    tokens.push({ kind: "op", value: c, line });
    i++;
  }
  return tokens;
}

export interface RequireCall {
  /** The module name when the argument is a string literal; undefined for a dynamic require. */
  name?: string;
  line: number;
  /** True when the call is outside every function body, i.e. it runs when the chunk loads. */
  atLoadTime: boolean;
}

/** Finds `require "x"`, `require 'x'`, `require [[x]]`, `require("x")` calls and dynamic ones. */
export function findRequires(src: string): RequireCall[] {
  const tokens = tokenize(src);
  const calls: RequireCall[] = [];
  // Block stack: every block that `end` (or `until`) closes; `function` entries count for depth.
  const blocks: string[] = [];
  let functionDepth = 0;
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k]!;
    if (t.kind !== "name") continue;
    switch (t.value) {
      case "function":
        blocks.push("function");
        functionDepth++;
        continue;
      case "do":
      case "if":
      case "repeat":
        blocks.push(t.value);
        continue;
      case "end":
      case "until":
        if (blocks.pop() === "function") functionDepth--;
        continue;
      case "require":
        break;
      default:
        continue;
    }
    const prev = tokens[k - 1];
    if (prev && prev.kind === "op" && (prev.value === "." || prev.value === ":")) continue;
    if (prev && prev.kind === "name" && (prev.value === "function" || prev.value === "local")) continue;
    const next = tokens[k + 1];
    const atLoadTime = functionDepth === 0;
    if (next?.kind === "string") {
      calls.push({ name: next.value, line: t.line, atLoadTime });
    } else if (next?.kind === "op" && next.value === "(") {
      const arg = tokens[k + 2];
      const close = tokens[k + 3];
      if (arg?.kind === "string" && close?.kind === "op" && close.value === ")") {
        calls.push({ name: arg.value, line: t.line, atLoadTime });
      } else {
        calls.push({ line: t.line, atLoadTime });
      }
    }
    // `require` used as a value (`local r = require`) is not a call: ignored.
  }
  return calls;
}

/**
 * aos runs Lua 5.3; Lua 5.4 added variable attributes (`local x <const> = 1`, `local f <close> = ...`),
 * which 5.3 reads as a syntax error "unexpected symbol near '<'". Pure: given the compiler's message
 * and the line it points at, the hint to add, or undefined when the error is not a 5.4-ism.
 */
const ATTRIBUTE = /\blocal\s+[A-Za-z_][A-Za-z0-9_]*\s*<\s*(const|close)\s*>/;

export function luaVersionHint(message: string, sourceLine: string | undefined): string | undefined {
  if (!/near '<'/.test(message) || sourceLine === undefined) return undefined;
  const m = ATTRIBUTE.exec(sourceLine);
  if (!m) return undefined;
  return `\`<${m[1]}>\` is Lua 5.4 syntax; the process runs Lua 5.3 (aos): write \`local name = value\` without the attribute`;
}

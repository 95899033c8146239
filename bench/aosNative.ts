/**
 * The baseline for "compute per message": aos's own Lua, run natively on Lua 5.3.
 *
 * aos's Lua sources come out of the very binary the compute unit runs (devnet/aosSources.ts; the bridge
 * defines `handle(msgJSON, envJSON)` and ends each message with `collectgarbage()`). This runs the same
 * JSON messages through them with the `lua5.3` interpreter, timed inside Lua.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { aosSources } from "../devnet/aosSources";

const longString = (s: string) => {
  let n = 0;
  while (s.includes(`]${"=".repeat(n)}]`)) n++;
  const eq = "=".repeat(n);
  return `[${eq}[\n${s}]${eq}]`;
};

// Loads the bundle as aos's C bridge does (the `main` script with the bundle table as its argument),
// evaluates the warm-up lines, then times the rest. aos replaces `print`, so results go to stderr.
const HARNESS = `
local bundle = dofile(arg[1])
assert(load(bundle.main, "main"))(bundle)
local f = io.open(arg[2]); local env = f:read("l"); local lines = {}
for l in f:lines() do lines[#lines + 1] = l end
local warm = tonumber(arg[3])
for i = 1, warm do
  local out = handle(lines[i], env)
  if not out:find('"ok":true', 1, true) then io.stderr:write("FAILED ", out:sub(1, 300), "\\n") os.exit(2) end
end
local t0 = os.clock()
for i = warm + 1, #lines do handle(lines[i], env) end
io.stderr:write(string.format("%.6f", (os.clock() - t0) * 1000 / (#lines - warm)))
`;

/**
 * Milliseconds per message for `timed` (JSON messages) after `warmup`, on aos's Lua natively; undefined
 * (with the reason) when lua5.3 or the sources are not available.
 */
export function aosNativeMsPerMessage(
  env: unknown,
  warmup: unknown[],
  timed: unknown[],
): { ms: number } | { unavailable: string } {
  const modules = aosSources();
  for (const needed of ["main", "__lua_webassembly__", ".process", ".handlers", "json"]) {
    if (!modules[needed]) return { unavailable: `module ${needed} not found in the aos binary` };
  }
  const dir = mkdtempSync(join(tmpdir(), "aos-native-"));
  try {
    const bundle = join(dir, "bundle.lua");
    writeFileSync(
      bundle,
      `return {\n${Object.entries(modules)
        .map(([k, v]) => `[${JSON.stringify(k)}] = ${longString(v)},`)
        .join("\n")}\n}\n`,
    );
    const lines = join(dir, "messages.jsonl");
    writeFileSync(lines, [env, ...warmup, ...timed].map((m) => JSON.stringify(m)).join("\n"));
    const harness = join(dir, "harness.lua");
    writeFileSync(harness, HARNESS);
    const run = spawnSync("lua5.3", [harness, bundle, lines, String(warmup.length)], { encoding: "utf8" });
    if (run.error) {
      const code = (run.error as NodeJS.ErrnoException).code;
      return {
        unavailable:
          code === "ENOENT" ? "lua5.3 is not installed (apt-get install lua5.3)" : run.error.message,
      };
    }
    if (run.status !== 0) return { unavailable: `aos's Lua failed natively: ${run.stderr.slice(0, 300)}` };
    return { ms: Number(run.stderr) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The baseline for "compute per message": aos's own Lua, run natively on Lua 5.3.
 *
 * The aos module embeds its Lua sources (process.lua, handlers.lua, json, the bridge that defines
 * `handle(msgJSON, envJSON)` and ends each message with `collectgarbage()`) as strings in its data
 * section, each loaded by `i64.const src; i64.const len; call` just before its name is set in the bundle
 * table. This reads them out of the very binary the compute unit runs (nothing is copied into the
 * repository), and runs the same JSON messages through them with the `lua5.3` interpreter, timed inside Lua.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { aosWasmPath } from "../devnet/modules";

class Reader {
  constructor(
    readonly buf: Buffer,
    public p = 0,
  ) {}
  uleb(): number {
    return this.leb(false);
  }
  sleb(): number {
    return this.leb(true);
  }
  /** One LEB128 number; a signed one extends its sign bit. */
  private leb(signed: boolean): number {
    let r = 0n;
    let s = 0n;
    let b: number;
    do {
      b = this.buf[this.p++]!;
      r |= BigInt(b & 0x7f) << s;
      s += 7n;
    } while (b & 0x80);
    if (signed && b & 0x40) r -= 1n << s;
    return Number(r);
  }
}

/** The module's initial memory: its active data segments laid out at their offsets. */
function dataImage(wasm: Buffer): Buffer {
  const r = new Reader(wasm, 8);
  const segments: { offset: number; bytes: Buffer }[] = [];
  while (r.p < wasm.length) {
    const id = wasm[r.p++]!;
    const size = r.uleb();
    const end = r.p + size;
    if (id === 11) {
      for (let n = r.uleb(); n > 0; n--) {
        const flags = r.uleb();
        let offset = -1;
        if (flags === 0 || flags === 2) {
          if (flags === 2) r.uleb();
          r.p++; // i32.const or i64.const
          offset = r.sleb();
          r.p++; // end
        }
        const len = r.uleb();
        if (offset >= 0) segments.push({ offset, bytes: wasm.subarray(r.p, r.p + len) });
        r.p += len;
      }
    }
    r.p = end;
  }
  const image = Buffer.alloc(Math.max(...segments.map((s) => s.offset + s.bytes.length)));
  for (const s of segments) s.bytes.copy(image, s.offset);
  return image;
}

/** Module name -> Lua source, as the aos binary bundles them. */
export function extractAosLua(wasm: Buffer): Record<string, string> {
  const mem = dataImage(wasm);
  // Every i64.const immediate in the binary (a crude scan; false positives are filtered below).
  const consts: { at: number; value: number; end: number }[] = [];
  const r = new Reader(wasm);
  for (let q = 0; q < wasm.length; q++) {
    if (wasm[q] !== 0x42) continue;
    r.p = q + 1;
    const value = r.sleb();
    consts.push({ at: q, value, end: r.p });
  }
  const cstr = (a: number) => {
    const e = mem.indexOf(0, a);
    return e < 0 ? "" : mem.subarray(a, e).toString("latin1");
  };
  const isName = (s: string) =>
    /^\.[a-z_][\w-]*(\.[\w-]+)*$/.test(s) || ["main", "__lua_webassembly__", "json"].includes(s);
  const modules: Record<string, string> = {};
  consts.forEach((c, i) => {
    if (c.value <= 0 || c.value >= mem.length) return;
    const name = cstr(c.value);
    if (!isName(name) || modules[name]) return;
    for (let k = i - 2; k >= 0 && consts[k]!.at > c.at - 64; k--) {
      const src = consts[k]!;
      const len = consts[k + 1]!;
      if (len.at !== src.end || src.value <= 0 || len.value < 20 || src.value + len.value > mem.length)
        continue;
      const text = mem.subarray(src.value, src.value + len.value).toString("utf8");
      if (!/(local |function|return|--)/.test(text)) continue;
      modules[name] = text;
      return;
    }
  });
  return modules;
}

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
  const modules = extractAosLua(readFileSync(aosWasmPath()));
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

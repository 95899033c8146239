/**
 * aos's own Lua sources, read out of the very module binary the compute unit runs (nothing is copied
 * into the repository). The aos module embeds them (process.lua, handlers.lua, json, the bridge that
 * defines `handle(msgJSON, envJSON)`) as strings in its data section, each loaded by
 * `i64.const src; i64.const len; call` just before its name is set in the bundle table.
 */
import { readFileSync } from "node:fs";
import { aosWasmPath } from "./modules";

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

/** aos's Lua sources in the module the local network runs (devnet/modules.ts). */
export function aosSources(): Record<string, string> {
  return extractAosLua(readFileSync(aosWasmPath()));
}

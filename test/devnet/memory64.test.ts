import { describe, expect, it } from "vitest";
import { adaptMemory64, growDelta, takesBigIntPages } from "../../devnet/memory64";
import { parseVersion } from "../../devnet/nodeVersions.cjs";

/** `(module (memory (export "m") i64 1))`: a one-page 64-bit memory, as aos 2.0.x has. */
// biome-ignore format: one line per section
const MEMORY64_MODULE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
  0x05, 0x03, 0x01, 0x04, 0x01, // memory section: one memory, flags i64, 1 page minimum
  0x07, 0x05, 0x01, 0x01, 0x6d, 0x02, 0x00, // export section: "m" = memory 0
]);

async function memory64(): Promise<WebAssembly.Memory> {
  const { instance } = await WebAssembly.instantiate(MEMORY64_MODULE);
  return instance.exports.m as WebAssembly.Memory;
}

const standardMemory64 = parseVersion(process.version)[0] >= 24;

describe("growDelta: the page count handed to grow", () => {
  it("is a BigInt, truncated as the draft API did, where the memory takes BigInts", () => {
    expect(growDelta(591.9999847412109, true)).toBe(591n);
    expect(growDelta(3, true)).toBe(3n);
    expect(growDelta(5n, true)).toBe(5n);
  });

  it("is left as it is where the memory takes Numbers", () => {
    expect(growDelta(591.5, false)).toBe(591.5);
  });

  it("refuses what no memory can grow by", () => {
    expect(() => growDelta(-1, true)).toThrow(/invalid page count -1/);
    expect(() => growDelta(Number.NaN, true)).toThrow(/invalid page count NaN/);
  });
});

describe(`a wasm64 memory on Node.js ${process.version}`, () => {
  it(`takes ${standardMemory64 ? "BigInt" : "Number"} page counts (standard memory64 from Node.js 24)`, async () => {
    expect(takesBigIntPages(await memory64())).toBe(standardMemory64);
  });

  it("grows by the fractional Number page counts ao-loader's glue passes, once adapted", async () => {
    const m = await memory64();
    adaptMemory64(m);
    // The glue asks (size - byteLength + 65535) / 65536 pages for a page-aligned size: one page here.
    expect(m.grow((2 * 65536 - 65536 + 65535) / 65536)).toBe(1);
    expect(m.buffer.byteLength).toBe(2 * 65536);
    expect(m.grow(0)).toBe(2);
  });

  it("leaves a 32-bit memory as it is", () => {
    const m = new WebAssembly.Memory({ initial: 1 });
    adaptMemory64(m);
    expect(Object.hasOwn(m, "grow")).toBe(false);
    expect(m.grow(1)).toBe(1);
  });
});

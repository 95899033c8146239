/**
 * Makes a wasm64 module's memory accept the Number page counts that `@permaweb/ao-loader`'s emscripten
 * glue passes to `grow`, on engines with standard memory64.
 *
 * Node 22 runs aos 2.0.x under `--experimental-wasm-memory64`, whose JS API took Numbers for a 64-bit
 * memory. Standard memory64 (V8 13, Node 24 on) takes BigInt page counts for such a memory and throws
 * `TypeError: Cannot convert 591.99… to a BigInt` on a Number. The glue's `growMemory` computes
 * `(size - byteLength + 65535) / 65536`, a fraction that the draft API truncated: so does this.
 */

type Grow = (delta: number | bigint) => number | bigint;

/** The page count a memory's `grow` is given: a BigInt (truncated, as the draft API did) where it takes one. */
export function growDelta(delta: number | bigint, takesBigInt: boolean): number | bigint {
  if (!takesBigInt || typeof delta === "bigint") return delta;
  if (!Number.isFinite(delta) || delta < 0) throw new RangeError(`invalid page count ${delta} for grow`);
  return BigInt(Math.trunc(delta));
}

/** Whether this memory's `grow` takes BigInt page counts (a 64-bit memory under standard memory64). */
export function takesBigIntPages(memory: WebAssembly.Memory): boolean {
  const grow = WebAssembly.Memory.prototype.grow as unknown as Grow;
  try {
    // Growing by zero pages changes nothing (a new `buffer` object over the same bytes); call it before
    // anything takes views of the memory.
    grow.call(memory, 0n);
    return true;
  } catch {
    return false;
  }
}

/**
 * Gives a freshly instantiated module's memory a `grow` that takes what the glue passes and returns a
 * Number, as the glue expects. Call it before the glue receives the instance. Other memories (wasm32,
 * or wasm64 on Node 22) are left as they are.
 */
export function adaptMemory64(memory: WebAssembly.Memory): void {
  if (!takesBigIntPages(memory)) return;
  const grow = WebAssembly.Memory.prototype.grow as unknown as Grow;
  Object.defineProperty(memory, "grow", {
    value: (delta: number | bigint) => Number(grow.call(memory, growDelta(delta, true))),
    configurable: true,
    writable: true,
  });
}

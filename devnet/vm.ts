import { deflateRawSync, inflateRawSync } from "node:zlib";
import { adaptMemory64 } from "./memory64";
import type { AosModule } from "./modules";

/** What aos returns for one message (JSON-V1 output encoding). */
export interface AosResult {
  Output: unknown;
  Messages: AosOutMessage[];
  Spawns: AosOutMessage[];
  Assignments: unknown[];
  Error?: unknown;
  GasUsed?: number;
}

export interface AosOutMessage {
  Target?: string;
  Anchor?: string;
  Data?: string;
  Tags?: { name: string; value: string }[];
}

/** The message shape AO's compute unit hands to `handle` (see permaweb/ao servers/cu ao-su.js). */
export type AosMessage = Record<string, unknown>;
export interface AosEnv {
  Process: { Id: string; Owner: string; Tags: { name: string; value: string }[] };
  Module: { Id: string; Owner: string; Tags: { name: string; value: string }[] };
}

type Handle = (
  memory: ArrayBuffer | null,
  msg: AosMessage,
  env: AosEnv,
) => Promise<AosResult & { Memory: ArrayBuffer }>;

interface WasmExports {
  memory: WebAssembly.Memory;
}

const PAGE = 65536;
const ZERO_PAGE = Buffer.alloc(PAGE);

/** A set of 64 KiB pages of a memory: the non-zero ones, everything else being zero. */
interface SparseMemory {
  length: number;
  pages: Map<number, Buffer>;
}

// ao-loader swaps Math.random and console.log around each call: calls must never interleave. The lane is
// per thread: the compute unit runs each instance in a worker of its own (see isolatedVm.ts).
let lane: Promise<unknown> = Promise.resolve();
function exclusive<T>(fn: () => Promise<T>): Promise<T> {
  const run = lane.then(fn, fn);
  lane = run.catch(() => undefined);
  return run;
}

/**
 * One live instance of an aos module for one process.
 *
 * `@permaweb/ao-loader` copies the whole WASM memory (~110 MiB for aos 2.0.x) in and out of every call
 * unless asked not to; here the instance keeps its memory between messages (`UNSAFE_MEMORY`), and memory
 * is copied only for snapshots (the non-zero pages) and around dry-runs (the pages they touched).
 */
export class AosVm {
  /** The memory as it is now, when known (no message evaluated since it was taken). */
  private known?: SparseMemory;
  /** A copy that no longer matches the memory: its buffers are reused by the next scan. */
  private stale?: SparseMemory;

  private constructor(
    private readonly handle: Handle,
    private readonly exports: () => WasmExports,
    private readonly resizeHeap: (size: number) => boolean,
  ) {}

  static async start(mod: AosModule, snapshot?: Buffer): Promise<AosVm> {
    const { handle, exports, resize } = await exclusive(() => instantiateAos(mod));
    const vm = new AosVm(handle, () => exports, resize);
    if (snapshot) vm.restore(decodeSnapshot(snapshot));
    return vm;
  }

  /**
   * Evaluates one message; the memory it leaves is the process's new state. `onStart` is called when the
   * evaluation itself begins, after whatever was queued before it.
   */
  async evaluate(msg: AosMessage, env: AosEnv, onStart?: () => void): Promise<AosResult> {
    return stripMemory(
      await exclusive(() => {
        // In the lane, not at the call: a scan queued before this message must not pass for its result.
        if (this.known) this.stale = this.known;
        this.known = undefined;
        onStart?.();
        return this.handle(null, msg, env);
      }),
    );
  }

  /**
   * Evaluates a message and puts the memory back as it was, so that nothing persists. The result is
   * handed back before the memory is put back (the caller can answer meanwhile); nothing else runs on
   * any instance until it is.
   */
  dryRun(msg: AosMessage, env: AosEnv, onStart?: () => void): Promise<AosResult> {
    return new Promise((resolve, reject) => {
      void exclusive(async () => {
        this.known ??= this.scan();
        const before = this.known;
        try {
          onStart?.();
          resolve(stripMemory(await this.handle(null, msg, env)));
        } catch (err) {
          reject(err);
        } finally {
          await new Promise((next) => setImmediate(next));
          this.restore(before);
        }
      });
    });
  }

  /**
   * Takes the copy of the memory that a dry-run puts back, in the background (in the lane, so after
   * whatever is queued). The first read of never-touched pages costs page faults, and newly non-zero
   * pages cost a copy; paying that here keeps it off the next dry-run.
   */
  warm(): void {
    void exclusive(async () => {
      this.known ??= this.scan();
    });
  }

  /** The process state as a compact snapshot: the non-zero pages, deflated. */
  snapshot(): Buffer {
    this.known ??= this.scan();
    return encodeSnapshot(this.known);
  }

  memoryBytes(): number {
    return this.exports().memory.buffer.byteLength;
  }

  private view(): Buffer {
    const buf = this.exports().memory.buffer;
    return Buffer.from(buf, 0, buf.byteLength);
  }

  /**
   * Copies the non-zero pages out of the live memory. Buffers of the previous copy are reused, and a page
   * equal to its previous copy costs a compare, not a copy.
   */
  private scan(): SparseMemory {
    const mem = this.view();
    const previous = this.stale?.pages;
    const pages = new Map<number, Buffer>();
    for (let p = 0; p * PAGE < mem.length; p++) {
      const page = mem.subarray(p * PAGE, (p + 1) * PAGE);
      const old = previous?.get(p);
      if (old) {
        if (!page.equals(old)) {
          old.set(page);
          if (old.equals(ZERO_PAGE)) continue;
        }
        pages.set(p, old);
      } else if (!page.equals(ZERO_PAGE)) {
        pages.set(p, Buffer.from(page));
      }
    }
    this.stale = undefined;
    return { length: mem.length, pages };
  }

  /** Makes the live memory equal to `state`: its pages written back, every other page zero. */
  private restore(state: SparseMemory): void {
    if (this.memoryBytes() < state.length) {
      if (!this.resizeHeap(state.length))
        throw new Error(`cannot grow the process memory to ${state.length} bytes`);
    }
    const mem = this.view();
    for (let p = 0; p * PAGE < mem.length; p++) {
      const page = mem.subarray(p * PAGE, (p + 1) * PAGE);
      const want = state.pages.get(p);
      if (want) {
        if (!page.equals(want)) page.set(want);
      } else if (!page.equals(ZERO_PAGE)) {
        page.fill(0);
      }
    }
    this.known = state;
  }
}

/**
 * Instantiates a module through `@permaweb/ao-loader`: the one place that loads it, so that anything the
 * loader needs around it (a patch, an option) goes here.
 */
async function instantiateAos(
  mod: AosModule,
): Promise<{ handle: Handle; exports: WasmExports; resize: (size: number) => boolean }> {
  // ao-loader is CommonJS; its emscripten glue builds the instance through this hook so that we keep
  // the exports (memory) and the glue's own heap-resize function.
  const AoLoader = require("@permaweb/ao-loader") as (bin: unknown, opts: object) => Promise<Handle>;
  let exportsRef: WasmExports | undefined;
  let resize: ((size: number) => boolean) | undefined;
  const instantiate = (
    imports: { env: Record<string, unknown> },
    done: (i: WebAssembly.Instance, m: WebAssembly.Module) => void,
  ) => {
    resize = imports.env.emscripten_resize_heap as (size: number) => boolean;
    WebAssembly.instantiate(mod.compiled, imports as unknown as WebAssembly.Imports).then((instance) => {
      exportsRef = instance.exports as unknown as WasmExports;
      adaptMemory64(exportsRef.memory);
      done(instance, mod.compiled);
    });
    return {};
  };
  const handle = await AoLoader(instantiate, {
    format: mod.format,
    UNSAFE_MEMORY: true,
    memoryLimit: mod.memoryLimit,
    computeLimit: mod.computeLimit,
    extensions: [],
    inputEncoding: "JSON-V1",
    outputEncoding: "JSON-V1",
  });
  if (!exportsRef || !resize) throw new Error(`module ${mod.id}: the loader did not instantiate it`);
  return { handle, exports: exportsRef, resize };
}

function stripMemory(r: AosResult & { Memory?: ArrayBuffer }): AosResult {
  const { Memory: _memory, ...rest } = r;
  return rest;
}

// Snapshot format: [u32 length in pages][u32 page count]([u32 index] ...)(page bytes ...), deflated.
function encodeSnapshot(state: SparseMemory): Buffer {
  const indices = [...state.pages.keys()].sort((a, b) => a - b);
  const header = Buffer.alloc(8 + 4 * indices.length);
  header.writeUInt32LE(state.length / PAGE, 0);
  header.writeUInt32LE(indices.length, 4);
  for (const [i, p] of indices.entries()) header.writeUInt32LE(p, 8 + 4 * i);
  return deflateRawSync(Buffer.concat([header, ...indices.map((p) => state.pages.get(p)!)]), { level: 1 });
}

function decodeSnapshot(snapshot: Buffer): SparseMemory {
  const raw = inflateRawSync(snapshot);
  const length = raw.readUInt32LE(0) * PAGE;
  const count = raw.readUInt32LE(4);
  const pages = new Map<number, Buffer>();
  const base = 8 + 4 * count;
  for (let i = 0; i < count; i++) {
    const p = raw.readUInt32LE(8 + 4 * i);
    pages.set(p, raw.subarray(base + i * PAGE, base + (i + 1) * PAGE));
  }
  return { length, pages };
}

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import type { AosModule } from "./modules";
import type { AosEnv, AosMessage, AosResult } from "./vm";
import type { VmReply, VmRequest, VmStart } from "./vmProtocol";

/** An evaluation ran past its deadline; the instance that ran it is gone. */
export class DeadlineError extends Error {
  constructor(readonly ms: number) {
    super(`the evaluation ran past the compute deadline of ${ms} ms and was stopped`);
  }
}

/** Linux's USER_HZ: /proc reports CPU time in these ticks. */
const TICKS_PER_SECOND = 100;

/** CPU time (ms) and nice value of a thread named by its /proc path (`<pid>/task/<tid>`), if readable. */
function threadStat(thread: string | undefined): { cpuMs: number; nice: number } | undefined {
  if (!thread) return undefined;
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th,
    // nice the 17th.
    const stat = readFileSync(`/proc/${thread}/stat`, "latin1");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { cpuMs: ((Number(f[11]) + Number(f[12])) * 1000) / TICKS_PER_SECOND, nice: Number(f[16]) };
  } catch {
    return undefined;
  }
}

const threadCpuMs = (thread: string | undefined) => threadStat(thread)?.cpuMs;

/**
 * A worker started ahead, with its code loaded: starting a thread costs tens of milliseconds on an idle
 * machine (seconds on a busy one), which would otherwise add to every spawn and every restore.
 */
let spare: Worker | undefined;

function startWorker(): Worker {
  const w = new Worker(join(__dirname, "vmWorker.cjs"));
  // Idle, it must not keep the Node process alive; and a failure shows when it is used.
  w.unref();
  const gone = () => {
    if (spare === w) spare = undefined;
  };
  w.on("error", gone);
  w.on("exit", gone);
  return w;
}

function takeWorker(): Worker {
  const w = spare ?? startWorker();
  spare = undefined;
  w.ref();
  return w;
}

interface Pending {
  resolve: (r: VmReply) => void;
  reject: (e: Error) => void;
  timer?: NodeJS.Timeout;
  /** When the evaluation began in the worker: wall-clock time here, and the thread's CPU time there. */
  began?: { at: number; cpu: number };
}

/**
 * A live aos instance (`AosVm`) in its own worker thread, so that an evaluation that never ends (a loop, a
 * decoder spinning on hostile input) can be stopped: past its deadline the worker is terminated and every
 * call on this instance fails. The caller restores the process on a new instance.
 *
 * Memory stays in the worker: only messages, results and snapshots cross, by structured clone.
 */
export class IsolatedVm {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private dead?: Error;
  /** The worker thread's /proc path, to read its CPU time (see `call`). */
  private thread?: string;

  private constructor(private readonly worker: Worker) {
    worker.on("message", (r: VmReply) => this.settle(r));
    worker.on("error", (e) => this.kill(e));
    worker.on("exit", (code) => this.kill(new Error(`the aos worker exited (code ${code})`)));
  }

  /**
   * Starts an instance of the module (shared, not copied) with the memory of a snapshot, if any. With
   * `background`, its thread runs at the lowest CPU priority (nice 19, where the system allows it) from
   * before the restore on: work that must never hold up the evaluation of messages (dry-runs) yields the
   * CPU to it. Such a thread is never handed to another instance (a thread cannot raise its priority back).
   */
  static async start(
    mod: AosModule,
    snapshot?: Buffer,
    opts: { background?: boolean } = {},
  ): Promise<IsolatedVm> {
    const vm = new IsolatedVm(takeWorker());
    const started = vm.call(0, undefined);
    const bytes = snapshot ? new Uint8Array(snapshot) : undefined; // a copy whose buffer can move
    const start: VmStart = {
      module: mod,
      ...(bytes ? { snapshot: bytes } : {}),
      ...(opts.background ? { background: true } : {}),
    };
    vm.worker.postMessage(start, bytes ? [bytes.buffer as ArrayBuffer] : []);
    const r = await started;
    if ("error" in r) throw new Error(`module ${mod.id}: ${r.error}`);
    if ("thread" in r) vm.thread = r.thread;
    spare ??= startWorker();
    return vm;
  }

  /** The worker thread's nice value, where /proc shows it (Linux): for tests. */
  niceness(): number | undefined {
    return threadStat(this.thread)?.nice;
  }

  /** Evaluates one message; the memory it leaves is the process's new state. */
  async evaluate(msg: AosMessage, env: AosEnv, deadlineMs: number): Promise<AosResult> {
    return resultOf(await this.request({ op: "evaluate", msg, env }, deadlineMs));
  }

  /** Evaluates a message and puts the memory back as it was (in the worker, after answering). */
  async dryRun(msg: AosMessage, env: AosEnv, deadlineMs: number): Promise<AosResult> {
    return resultOf(await this.request({ op: "dryRun", msg, env }, deadlineMs));
  }

  /** Takes, in the background, the copy of the memory that the next dry-run puts back. */
  warm(): void {
    if (!this.dead) this.worker.postMessage({ op: "warm", id: this.nextId++ } satisfies VmRequest);
  }

  /** The process state as a compact snapshot (see `AosVm.snapshot`). */
  async snapshot(): Promise<Buffer> {
    const r = await this.request({ op: "snapshot" });
    if (!("snapshot" in r)) throw new Error("the aos worker answered a snapshot request without one");
    return Buffer.from(r.snapshot.buffer, r.snapshot.byteOffset, r.snapshot.byteLength);
  }

  /** Stops the worker; calls still waiting fail. */
  async terminate(): Promise<void> {
    this.kill(new Error("the aos instance was stopped"));
    await this.worker.terminate();
  }

  private request(
    req: { op: "evaluate" | "dryRun"; msg: AosMessage; env: AosEnv } | { op: "snapshot" },
    deadlineMs?: number,
  ): Promise<VmReply> {
    const id = this.nextId++;
    const reply = this.call(id, deadlineMs);
    if (!this.dead) this.worker.postMessage({ ...req, id } as VmRequest);
    return reply.then((r) => {
      if ("error" in r) throw new Error(r.error);
      return r;
    });
  }

  /**
   * The reply to request `id`. Its deadline counts the worker thread's CPU time from the moment the
   * evaluation begins (after what was queued before it, such as a background copy of the memory), where
   * /proc shows it (Linux), so that a busy machine does not stop legitimate work; elsewhere, wall-clock
   * time. It is checked when that much wall-clock time has passed, which costs a normal evaluation
   * nothing; past it the worker is terminated. No cap in wall-clock time: a thread starved by a busy
   * machine is not a runaway one, and one that never ends uses CPU time.
   */
  private call(id: number, deadlineMs: number | undefined): Promise<VmReply> {
    if (this.dead) return Promise.reject(this.dead);
    return new Promise((resolve, reject) => {
      const p: Pending = { resolve, reject };
      this.pending.set(id, p);
      if (deadlineMs === undefined) return;
      const check = () => {
        // Not begun: what runs ahead of it in the worker has a deadline of its own.
        if (!p.began) {
          p.timer = setTimeout(check, deadlineMs);
          return;
        }
        const cpu = threadCpuMs(this.thread);
        const used = cpu === undefined ? performance.now() - p.began.at : cpu - p.began.cpu;
        if (used < deadlineMs) {
          p.timer = setTimeout(check, Math.max(deadlineMs - used, 10));
          return;
        }
        this.kill(new Error("the aos instance was stopped: another call ran past its deadline"), id);
        reject(new DeadlineError(deadlineMs));
        void this.worker.terminate();
      };
      p.timer = setTimeout(check, deadlineMs);
    });
  }

  private settle(r: VmReply): void {
    const p = this.pending.get(r.id);
    if (!p) return;
    if ("started" in r) {
      p.began = { at: performance.now(), cpu: r.started };
      return;
    }
    this.pending.delete(r.id);
    clearTimeout(p.timer);
    p.resolve(r);
  }

  /** Marks the instance dead and fails every waiting call (but `except`, which fails on its own). */
  private kill(err: Error, except?: number): void {
    this.dead ??= err;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      if (id !== except) p.reject(this.dead);
    }
    this.pending.clear();
  }
}

function resultOf(r: VmReply): AosResult {
  if (!("result" in r)) throw new Error("the aos worker answered an evaluation without a result");
  return r.result;
}

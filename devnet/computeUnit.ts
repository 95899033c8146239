import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { wallClock } from "./clock";
import { tagValue } from "./dataItem";
import { Journal } from "./journal";
import type { AosModule } from "./modules";
import { loadResults, resultRecord } from "./resultsLog";
import type { ProcessSchedule, Scheduled, Scheduler } from "./scheduler";
import { latestSnapshotNonce, readSnapshot, writeSnapshot } from "./snapshots";
import { type AosEnv, type AosMessage, type AosResult, AosVm } from "./vm";

/** A result as the compute unit stores and serves it. */
export type StoredResult = AosResult;

interface ProcessState {
  id: string;
  schedule: ProcessSchedule;
  module: AosModule;
  env: AosEnv;
  results: StoredResult[];
  resultsJournal: Journal;
  vm?: AosVm;
  /** Nonce the live instance's memory stands at (-1: fresh). */
  vmNonce: number;
  snapshotNonce: number;
  lastUsed: number;
  running?: Promise<void>;
  /** Every use of the live instance goes through this chain, one at a time. */
  queue: Promise<unknown>;
  busy: number;
  /** Dry-run results for the state at `nonce`, by request. */
  dryRuns: { nonce: number; results: Map<string, StoredResult> };
  waiters: Map<number, (() => void)[]>;
}

/** Dry-run results kept per process, for the current state only. */
const DRY_RUN_CACHE = 256;

export class NotFoundError extends Error {
  readonly status = 404;
}

export interface ComputeUnitOptions {
  dir: string;
  scheduler: Scheduler;
  modules: AosModule[];
  moduleOwner: string;
  /** Live instances kept in memory; the least recently used beyond this are evicted to snapshots. */
  maxLive: number;
  /** A snapshot every this many evaluated messages bounds the replay after a crash. */
  snapshotEvery: number;
  onEvaluated: (s: Scheduled, result: StoredResult) => void;
  /** Where repairs of damaged results logs and snapshots are reported. */
  log?: (line: string) => void;
}

/** Builds the message aos receives, as AO's compute unit does from a scheduled data item. */
export function toAosMessage(s: Scheduled): AosMessage {
  const { item } = s;
  const fromProcess = tagValue(item.tags, "From-Process");
  return {
    Id: item.id,
    Signature: item.signature,
    Data: item.data,
    Owner: item.owner,
    Anchor: item.anchor || undefined,
    From: fromProcess || item.owner,
    "Forwarded-By": fromProcess ? item.owner : undefined,
    Tags: item.tags,
    Target: s.process,
    Epoch: s.epoch,
    Nonce: s.nonce,
    Timestamp: s.timestamp,
    "Block-Height": s.blockHeight,
    "Hash-Chain": s.hashChain,
    Cron: false,
  };
}

/**
 * The compute unit: evaluates each process's messages in nonce order on one live aos instance per process,
 * stores results, serves dry-runs on the current state, and keeps memory bounded by evicting idle
 * instances to snapshots.
 */
export class ComputeUnit {
  private readonly procs = new Map<string, ProcessState>();
  private readonly report = (line: string) => this.o.log?.(line);
  private stopped = false;

  constructor(private readonly o: ComputeUnitOptions) {
    mkdirSync(o.dir, { recursive: true });
    o.scheduler.onScheduled((s) => this.kick(s.process));
  }

  /** Evaluates whatever is scheduled and not yet evaluated (after a restart). */
  resumeAll(): void {
    for (const id of this.o.scheduler.processes.keys()) {
      const p = this.state(id);
      if (p.results.length <= p.schedule.durable) this.kick(id);
    }
  }

  /** Results already stored for a process (loads its state). */
  storedResults(processId: string): { nonce: number; result: StoredResult }[] {
    return this.state(processId).results.map((result, nonce) => ({ nonce, result }));
  }

  /** Waits until the message is evaluated and returns its result. */
  async result(processId: string, messageId: string): Promise<StoredResult> {
    const s = this.o.scheduler.find(messageId);
    if (!s || s.process !== processId) {
      throw new NotFoundError(`message ${messageId} is not scheduled on process ${processId}`);
    }
    const p = this.state(processId);
    if (p.results[s.nonce] === undefined) {
      this.kick(processId);
      await new Promise<void>((resolve) => {
        const list = p.waiters.get(s.nonce) ?? [];
        list.push(resolve);
        p.waiters.set(s.nonce, list);
      });
    }
    return p.results[s.nonce]!;
  }

  /** Evaluates a message against the latest state and persists nothing. */
  async dryRun(processId: string, body: Record<string, unknown>): Promise<StoredResult> {
    const p = this.state(processId);
    const tags = (body.Tags as { name: string; value: string }[] | undefined) ?? [];
    const owner = typeof body.Owner === "string" ? body.Owner : undefined;
    const key = JSON.stringify(body);
    return this.exclusive(p, async () => {
      // As AO's compute unit does, the same dry-run on the same state is answered from a cache: a
      // dry-run is a pure function of the state and the message.
      const at = p.results.length - 1;
      if (p.dryRuns.nonce !== at) p.dryRuns = { nonce: at, results: new Map() };
      const cached = p.dryRuns.results.get(key);
      if (cached) return cached;
      const vm = await this.live(p);
      // Timestamp and block height default to those of the state the dry-run reads.
      const last = p.schedule.messages[p.vmNonce];
      const msg: AosMessage = {
        Timestamp: last?.timestamp,
        "Block-Height": last?.blockHeight,
        Cron: false,
        Target: processId,
        ...body,
        Tags: tags,
        From: tagValue(tags, "From-Process") || owner,
        "Read-Only": true,
      };
      const result = await vm.dryRun(msg, p.env);
      if (p.dryRuns.results.size >= DRY_RUN_CACHE)
        p.dryRuns.results.delete(p.dryRuns.results.keys().next().value!);
      p.dryRuns.results.set(key, result);
      return result;
    });
  }

  private exclusive<T>(p: ProcessState, fn: () => Promise<T>): Promise<T> {
    p.busy++;
    const run = p.queue.then(fn, fn).finally(() => p.busy--);
    p.queue = run.catch(() => undefined);
    return run;
  }

  /** Snapshots every live process and closes the logs. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const p of this.procs.values()) {
      await p.running;
      await p.queue;
      if (p.vm && p.vmNonce > p.snapshotNonce) this.writeSnapshot(p);
      p.resultsJournal.close();
    }
  }

  liveCount(): number {
    return [...this.procs.values()].filter((p) => p.vm).length;
  }

  private state(processId: string): ProcessState {
    const known = this.procs.get(processId);
    if (known) return known;
    const schedule = this.o.scheduler.processes.get(processId);
    if (!schedule) throw new NotFoundError(`process ${processId} is not known to this network`);
    const moduleId = tagValue(schedule.item.tags, "Module");
    const module = this.o.modules.find((m) => m.id === moduleId);
    if (!module)
      throw new Error(`process ${processId} names module ${moduleId}, which this network does not serve`);
    const dir = join(this.o.dir, processId);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, "results.log");
    const results = loadResults(file, schedule, this.report);
    const p: ProcessState = {
      id: processId,
      schedule,
      module,
      env: {
        Process: { Id: processId, Owner: schedule.item.owner, Tags: schedule.item.tags },
        Module: { Id: module.id, Owner: this.o.moduleOwner, Tags: module.tags },
      },
      results,
      resultsJournal: new Journal(file),
      vmNonce: -1,
      snapshotNonce: latestSnapshotNonce(dir, schedule.durable) ?? -1,
      lastUsed: wallClock(),
      queue: Promise.resolve(),
      busy: 0,
      dryRuns: { nonce: -1, results: new Map() },
      waiters: new Map(),
    };
    this.procs.set(processId, p);
    return p;
  }

  private kick(processId: string): void {
    const p = this.state(processId);
    if (p.running || this.stopped) return;
    p.running = this.drain(p).finally(() => {
      p.running = undefined;
      if (p.results.length <= p.schedule.durable && !this.stopped) this.kick(processId);
    });
  }

  private async drain(p: ProcessState): Promise<void> {
    while (p.results.length <= p.schedule.durable && !this.stopped) {
      const s = p.schedule.messages[p.results.length]!;
      const result = await this.exclusive(p, async () => this.evaluateOn(p, await this.live(p), s));
      p.results.push(result);
      p.vmNonce = s.nonce;
      p.resultsJournal.appendLazy(resultRecord(s, result));
      for (const w of p.waiters.get(s.nonce) ?? []) w();
      p.waiters.delete(s.nonce);
      this.o.onEvaluated(s, result);
      if (s.nonce - p.snapshotNonce >= this.o.snapshotEvery) this.writeSnapshot(p);
      // The boot fills the fresh memory: copy it now, in the background, rather than in the first
      // dry-run (a deploy's check right after its Eval). Later messages change few pages.
      if (s.nonce === 0) p.vm?.warm();
    }
  }

  private async evaluateOn(p: ProcessState, vm: AosVm, s: Scheduled): Promise<StoredResult> {
    try {
      return await vm.evaluate(toAosMessage(s), p.env);
    } catch (err) {
      // A trap inside the module: AO's compute unit keeps the memory from before the message.
      p.vm = undefined;
      p.vmNonce = -1;
      await this.live(p, s.nonce - 1);
      return {
        Output: "",
        Messages: [],
        Spawns: [],
        Assignments: [],
        Error: String((err as Error)?.message ?? err),
      };
    }
  }

  /** The live instance of a process at its latest evaluated nonce (or at `upTo`), restoring it if needed. */
  private async live(p: ProcessState, upTo = p.results.length - 1): Promise<AosVm> {
    p.lastUsed = wallClock();
    if (p.vm && p.vmNonce === upTo) return p.vm;
    if (!p.vm || p.vmNonce > upTo) {
      const assignmentAt = (n: number) => p.schedule.messages[n]?.assignmentId;
      const snap = readSnapshot(join(this.o.dir, p.id), upTo, assignmentAt, this.report);
      p.vm = await AosVm.start(p.module, snap?.memory);
      p.vmNonce = snap?.nonce ?? -1;
      p.vm.warm();
      this.evictIdle(p);
    }
    // Replay what the snapshot does not hold; these results are already stored.
    while (p.vmNonce < upTo) {
      const s = p.schedule.messages[p.vmNonce + 1]!;
      await p.vm.evaluate(toAosMessage(s), p.env);
      p.vmNonce = s.nonce;
    }
    return p.vm;
  }

  private evictIdle(current: ProcessState): void {
    const live = [...this.procs.values()].filter((p) => p.vm && p !== current && p.busy === 0);
    live.sort((a, b) => a.lastUsed - b.lastUsed);
    while (live.length + 1 > this.o.maxLive) {
      const p = live.shift()!;
      if (p.vmNonce > p.snapshotNonce) this.writeSnapshot(p);
      p.vm = undefined;
      p.vmNonce = -1;
    }
  }

  /** Results first (a snapshot must never be ahead of the stored results), then the memory. */
  private writeSnapshot(p: ProcessState): void {
    if (!p.vm) return;
    p.resultsJournal.sync();
    writeSnapshot(
      join(this.o.dir, p.id),
      p.vmNonce,
      p.schedule.messages[p.vmNonce]!.assignmentId,
      p.vm.snapshot(),
    );
    p.snapshotNonce = p.vmNonce;
  }
}

import { join } from "node:path";
import { wallClock } from "./clock";
import { dataForProcess, type Item, isMainnetProcess, tagValue } from "./dataItem";
import { type DryRunInstance, type DryRunLimits, DryRunPool } from "./dryRuns";
import { DeadlineError, IsolatedVm } from "./isolatedVm";
import { Journal, mkdirDurably } from "./journal";
import type { AosModule } from "./modules";
import { NotFoundError } from "./notFound";
import { loadResults, resultRecord } from "./resultsLog";
import type { ProcessSchedule, Scheduled, Scheduler } from "./scheduler";
import { latestSnapshotNonce, readSnapshot, writeSnapshot } from "./snapshots";
import type { AosEnv, AosMessage, AosResult } from "./vm";

/** A result as the compute unit stores and serves it. */
export type StoredResult = AosResult;

/**
 * Why a message left the state as it was before it: it ran past the compute deadline, or the module
 * trapped. A replay skips such a message rather than evaluate it again: whether an evaluation meets a
 * deadline depends on timing, so the decision is taken once and journaled with the result.
 */
export type RolledBack = "deadline" | "trap";

/**
 * One line of a process's `rolledback.log`. Results can be recomputed and their log repaired, but a
 * skip cannot: it is kept in its own journal, synced before anything builds on it, and refused when
 * damaged (like the messages log), so that a replay follows the decision and never takes it again.
 */
interface RollbackRecord {
  nonce: number;
  assignment: string;
  why: RolledBack;
  result: StoredResult;
}

/** A message or dry-run stopped at the compute deadline. */
export interface DeadlineHit {
  process: string;
  /** The message's nonce; absent for a dry-run. */
  nonce?: number;
  ms: number;
}

interface ProcessState {
  id: string;
  schedule: ProcessSchedule;
  module: AosModule;
  env: AosEnv;
  results: StoredResult[];
  resultsJournal: Journal;
  rollbacksJournal: Journal;
  /** Nonces whose effects are not in the state (see `RolledBack`). */
  /** Messages that left the state as it was before them, with the result they got. */
  rolledBack: Map<number, StoredResult>;
  vm?: IsolatedVm;
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

/** Where a result stands in a process's order: its message's timestamp, then its nonce. */
export interface Position {
  timestamp: number;
  ordinate: number;
}

const before = (a: Position, b: Position) =>
  a.timestamp < b.timestamp || (a.timestamp === b.timestamp && a.ordinate < b.ordinate);

const cursorOf = (at: Position): string => Buffer.from(JSON.stringify(at)).toString("base64url");

export interface ComputeUnitOptions {
  dir: string;
  scheduler: Scheduler;
  modules: AosModule[];
  moduleOwner: string;
  /** Live instances kept in memory; the least recently used beyond this are evicted to snapshots. */
  maxLive: number;
  /** A snapshot every this many evaluated messages bounds the replay after a crash. */
  snapshotEvery: number;
  /** CPU time (ms) one message or dry-run may compute before it is stopped with an error result. */
  computeDeadlineMs: number;
  /** How many dry-runs run, on how many instances of their own (devnet/dryRuns.ts). */
  dryRunLimits: DryRunLimits;
  onEvaluated: (s: Scheduled, result: StoredResult) => void;
  /** Where repairs of damaged results logs and snapshots are reported. */
  log?: (line: string) => void;
  onDeadline: (hit: DeadlineHit) => void;
}

/**
 * Builds the message aos receives, as AO's compute unit does from a scheduled data item of the process
 * spawned by `spawn` (whose kind decides what data that is not UTF-8 becomes: `dataForProcess`).
 */
export function toAosMessage(s: Scheduled, spawn: Item): AosMessage {
  const { item } = s;
  const fromProcess = tagValue(item.tags, "From-Process");
  return {
    Id: item.id,
    Signature: item.signature,
    Data: dataForProcess(item, { mainnet: isMainnetProcess(spawn), isProcessItem: s.nonce === 0 }),
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

/** A message that fails leaves the state as before it, and its result says why (as AO's compute unit does). */
function errorResult(err: unknown): StoredResult {
  return {
    Output: "",
    Messages: [],
    Spawns: [],
    Assignments: [],
    Error: err instanceof Error ? err.message : String(err),
  };
}

/**
 * A replay re-evaluates messages that met the deadline once; the slack absorbs a busier machine, and a
 * replay that still runs past it fails (the process then answers with that error) rather than hang.
 */
const REPLAY_SLACK = 4;

/**
 * The compute unit: evaluates each process's messages in nonce order on one live aos instance per process
 * (each in a worker thread, stopped at the compute deadline), stores results, serves dry-runs on the
 * current state, and keeps memory bounded by evicting idle instances to snapshots.
 */
export class ComputeUnit {
  private readonly procs = new Map<string, ProcessState>();
  private readonly report = (line: string) => this.o.log?.(line);
  private readonly dryRunPool: DryRunPool<IsolatedVm>;
  private stopped = false;

  constructor(private readonly o: ComputeUnitOptions) {
    mkdirDurably(o.dir);
    this.dryRunPool = new DryRunPool<IsolatedVm>(o.dryRunLimits, (vm) => void vm.terminate(), wallClock);
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

  /**
   * `GET /results/<pid>`: a page of stored results in the sort's direction; `from` is exclusive and `to`
   * inclusive, as positions (timestamp, then nonce) that a page's cursors carry.
   */
  resultsPage(processId: string, q: { sort: "ASC" | "DESC"; limit: number; from?: Position; to?: Position }) {
    const schedule = this.o.scheduler.processes.get(processId);
    if (!schedule) throw new NotFoundError(`process ${processId} is not known to this network`);
    const { from, to } = q;
    let rows = this.storedResults(processId).map(({ nonce, result }) => {
      const s = schedule.messages[nonce]!;
      return { at: { timestamp: s.timestamp, ordinate: nonce }, result };
    });
    if (q.sort === "ASC") {
      rows = rows.filter((r) => (!from || before(from, r.at)) && (!to || !before(to, r.at)));
    } else {
      rows = rows.reverse().filter((r) => (!from || before(r.at, from)) && (!to || !before(r.at, to)));
    }
    const page = rows.slice(0, q.limit);
    return {
      pageInfo: { hasNextPage: rows.length > page.length },
      edges: page.map((r) => ({ cursor: cursorOf(r.at), node: r.result })),
    };
  }

  /** Waits until the message is evaluated and returns its result. */
  async result(processId: string, messageId: string): Promise<StoredResult> {
    const s = this.o.scheduler.find(messageId);
    if (!s || s.process !== processId) {
      throw new NotFoundError(`message ${messageId} is not scheduled on process ${processId}`);
    }
    return this.resultAt(processId, s.nonce);
  }

  /**
   * Waits until the message at `slot` of a process's schedule (its nonce, which HyperBEAM calls the slot)
   * is evaluated and returns its result.
   */
  async resultAt(processId: string, slot: number): Promise<StoredResult> {
    const p = this.state(processId);
    if (slot > p.schedule.durable) {
      throw new NotFoundError(
        `slot ${slot} of process ${processId} is not assigned yet: its latest slot is ${p.schedule.durable}`,
      );
    }
    await this.evaluatedThrough(p, slot);
    return p.results[slot]!;
  }

  /** Resolves once the message at `nonce` is evaluated. */
  private async evaluatedThrough(p: ProcessState, nonce: number): Promise<void> {
    if (nonce < 0 || p.results[nonce] !== undefined) return;
    this.kick(p.id);
    await new Promise<void>((resolve) => {
      const list = p.waiters.get(nonce) ?? [];
      list.push(resolve);
      p.waiters.set(nonce, list);
    });
  }

  /**
   * Evaluates a message against the latest state and persists nothing, on an instance of its own, never
   * on the process's live instance (devnet/dryRuns.ts): a dry-run that runs until the deadline holds up no
   * message. It is admitted (or refused with `DryRunRefused`) before `readBody` reads its request.
   */
  async dryRun(
    processId: string,
    peer: string,
    readBody: () => Promise<Record<string, unknown>>,
  ): Promise<StoredResult> {
    const p = this.state(processId);
    const ticket = this.dryRunPool.admit(peer, processId);
    try {
      const body = await readBody();
      const tags = (body.Tags as { name: string; value: string }[] | undefined) ?? [];
      const owner = typeof body.Owner === "string" ? body.Owner : undefined;
      const key = JSON.stringify(body);
      // As AO's compute unit does, a dry-run reads the state after every message scheduled before it (after
      // a restart or a repaired results log, the evaluation may still be catching up).
      await this.evaluatedThrough(p, p.schedule.durable);
      // As AO's compute unit does, the same dry-run on the same state is answered from a cache: a dry-run
      // is a pure function of the state and the message.
      const at = p.results.length - 1;
      if (p.dryRuns.nonce !== at) p.dryRuns = { nonce: at, results: new Map() };
      const cached = p.dryRuns.results.get(key);
      if (cached) return cached;
      const instance = await ticket.instance();
      let result: StoredResult;
      try {
        const vm = await this.bring(p, instance, at);
        // Timestamp and block height default to those of the state the dry-run reads.
        const last = p.schedule.messages[at];
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
        result = await vm.dryRun(msg, p.env, this.o.computeDeadlineMs);
      } catch (err) {
        // The instance is stopped (deadline) or may be damaged (trap, failed replay): it leaves the pool.
        // Not cached: whether a dry-run meets the deadline depends on timing.
        ticket.discard(instance);
        if (err instanceof DeadlineError) this.o.onDeadline({ process: p.id, ms: err.ms });
        return errorResult(err);
      }
      if (p.dryRuns.results.size >= DRY_RUN_CACHE)
        p.dryRuns.results.delete(p.dryRuns.results.keys().next().value!);
      p.dryRuns.results.set(key, result);
      return result;
    } finally {
      ticket.done();
    }
  }

  /**
   * A dry-run instance holding the state at nonce `at`: started (at the lowest CPU priority) from the
   * latest snapshot at or before it, then brought forward by replaying the messages since, as `live` does.
   */
  private async bring(
    p: ProcessState,
    instance: DryRunInstance<IsolatedVm>,
    at: number,
  ): Promise<IsolatedVm> {
    if (instance.vm && instance.nonce > at) {
      void instance.vm.terminate();
      instance.vm = undefined;
    }
    if (!instance.vm) {
      const snap = this.readSnapshotAt(p, at);
      const vm = await IsolatedVm.start(p.module, snap?.memory, { background: true });
      if (this.stopped) {
        await vm.terminate();
        throw new Error("the network is stopping");
      }
      instance.vm = vm;
      instance.nonce = snap?.nonce ?? -1;
    }
    const vm = instance.vm;
    await this.replay(p, vm, instance.nonce, at, (nonce) => {
      instance.nonce = nonce;
    });
    return vm;
  }

  /** Dry-run instances alive now (each holds a process's memory). */
  dryRunInstances(): number {
    return this.dryRunPool.size();
  }

  private exclusive<T>(p: ProcessState, fn: () => Promise<T>): Promise<T> {
    p.busy++;
    const run = p.queue.then(fn, fn).finally(() => p.busy--);
    p.queue = run.catch(() => undefined);
    return run;
  }

  /** Snapshots every live process, stops its instance and closes the logs; stops the dry-run instances. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.dryRunPool.drain().map((i) => i.vm?.terminate()));
    for (const p of this.procs.values()) {
      await p.running;
      await p.queue;
      if (p.vm && p.vmNonce > p.snapshotNonce) await this.writeSnapshot(p);
      await this.drop(p);
      p.resultsJournal.close();
      p.rollbacksJournal.close();
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
    mkdirDurably(dir);
    const file = join(dir, "results.log");
    const results = loadResults(file, schedule, this.report);
    const rollbacksFile = join(dir, "rolledback.log");
    const rolledBack = new Map<number, StoredResult>();
    for (const r of Journal.readChecked<RollbackRecord>(rollbacksFile, this.report)) {
      // A record for a message the log no longer holds at that nonce decides nothing.
      if (schedule.messages[r.nonce]?.assignmentId === r.assignment) rolledBack.set(r.nonce, r.result);
      else this.report(`${rollbacksFile}: line for nonce ${r.nonce} names another message; ignored`);
    }
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
      rollbacksJournal: new Journal(rollbacksFile, { acked: true }),
      rolledBack,
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
      const result = await this.exclusive(p, async () => {
        // A message rolled back before (its result since lost with a repaired results log) is not
        // evaluated again: the journal decided it.
        const decided = p.rolledBack.get(s.nonce);
        const { result, rolledBack } = decided ? { result: decided } : await this.evaluateOn(p, s);
        if (rolledBack) {
          // On disk before anything builds on it: a replay follows this record, it never decides again.
          p.rolledBack.set(s.nonce, result);
          await p.rollbacksJournal.append({
            nonce: s.nonce,
            assignment: s.assignmentId,
            why: rolledBack,
            result,
          } satisfies RollbackRecord);
        }
        p.resultsJournal.appendLazy(resultRecord(s, result));
        p.results.push(result);
        if (p.vm) p.vmNonce = s.nonce;
        if (s.nonce - p.snapshotNonce >= this.o.snapshotEvery) await this.writeSnapshot(p);
        return result;
      });
      for (const w of p.waiters.get(s.nonce) ?? []) w();
      p.waiters.delete(s.nonce);
      this.o.onEvaluated(s, result);
    }
  }

  private async evaluateOn(
    p: ProcessState,
    s: Scheduled,
  ): Promise<{ result: StoredResult; rolledBack?: RolledBack }> {
    const vm = await this.live(p);
    try {
      return { result: await vm.evaluate(toAosMessage(s, p.schedule.item), p.env, this.o.computeDeadlineMs) };
    } catch (err) {
      // AO's compute unit keeps the memory from before a message that fails: this instance is stopped or
      // may be damaged, and the next use restores the process without the message.
      await this.drop(p);
      const deadline = err instanceof DeadlineError;
      if (deadline) this.o.onDeadline({ process: p.id, nonce: s.nonce, ms: err.ms });
      return { result: errorResult(err), rolledBack: deadline ? "deadline" : "trap" };
    }
  }

  /**
   * The live instance of a process at its latest evaluated nonce, restoring it if needed: from the latest
   * snapshot, then a replay of the messages after it, skipping those that were rolled back.
   */
  private async live(p: ProcessState): Promise<IsolatedVm> {
    const upTo = p.results.length - 1;
    p.lastUsed = wallClock();
    if (p.vm && p.vmNonce === upTo) return p.vm;
    // Ahead of the stored results (a repaired results log is recomputed): start again from a snapshot.
    if (p.vm && p.vmNonce > upTo) await this.drop(p);
    if (!p.vm) {
      const snap = this.readSnapshotAt(p, upTo);
      p.vm = await IsolatedVm.start(p.module, snap?.memory);
      p.vmNonce = snap?.nonce ?? -1;
      this.evictIdle(p);
    }
    // These results are already stored.
    try {
      await this.replay(p, p.vm, p.vmNonce, upTo, (nonce) => {
        p.vmNonce = nonce;
      });
    } catch (err) {
      await this.drop(p);
      throw err;
    }
    return p.vm;
  }

  /** The newest restorable snapshot of a process at or before nonce `atMost` (see snapshots.ts). */
  private readSnapshotAt(p: ProcessState, atMost: number) {
    const assignmentAt = (n: number) => p.schedule.messages[n]?.assignmentId;
    return readSnapshot(join(this.o.dir, p.id), atMost, assignmentAt, this.report);
  }

  /**
   * Replays onto `vm` the messages after nonce `from` up to `to`, whose results are already stored,
   * skipping those that were rolled back; `advanced` follows each step. A replay that fails throws.
   */
  private async replay(
    p: ProcessState,
    vm: IsolatedVm,
    from: number,
    to: number,
    advanced: (nonce: number) => void,
  ): Promise<void> {
    for (let nonce = from + 1; nonce <= to; nonce++) {
      const s = p.schedule.messages[nonce]!;
      if (!p.rolledBack.has(nonce)) {
        try {
          await vm.evaluate(toAosMessage(s, p.schedule.item), p.env, this.o.computeDeadlineMs * REPLAY_SLACK);
        } catch (err) {
          throw new Error(
            `process ${p.id}: replaying message ${nonce} failed (${err instanceof Error ? err.message : String(err)})`,
          );
        }
      }
      advanced(nonce);
    }
  }

  /** Stops the live instance of a process; the next use restores it. */
  private async drop(p: ProcessState): Promise<void> {
    const vm = p.vm;
    p.vm = undefined;
    p.vmNonce = -1;
    await vm?.terminate();
  }

  private evictIdle(current: ProcessState): void {
    const live = [...this.procs.values()].filter((p) => p.vm && p !== current && p.busy === 0);
    live.sort((a, b) => a.lastUsed - b.lastUsed);
    while (live.length + 1 > this.o.maxLive) {
      const p = live.shift()!;
      // Detached at once (the process counts as not live), snapshotted and stopped in the background. A
      // use meanwhile restores from the previous snapshot; a snapshot that fails costs only that.
      const vm = p.vm!;
      const nonce = p.vmNonce;
      p.vm = undefined;
      p.vmNonce = -1;
      void (nonce > p.snapshotNonce ? this.writeSnapshot(p, vm, nonce) : Promise.resolve())
        .catch(() => undefined)
        .then(() => vm.terminate());
    }
  }

  /** Results first (a snapshot must never be ahead of the stored results), then the memory. */
  private async writeSnapshot(p: ProcessState, vm = p.vm, nonce = p.vmNonce): Promise<void> {
    if (!vm) return;
    p.resultsJournal.sync();
    writeSnapshot(
      join(this.o.dir, p.id),
      nonce,
      p.schedule.messages[nonce]!.assignmentId,
      await vm.snapshot(),
    );
    p.snapshotNonce = Math.max(p.snapshotNonce, nonce);
  }
}

/**
 * Where dry-runs run, and how many: never on a process's live instance (which evaluates its messages),
 * but on instances of their own, in worker threads of the lowest CPU priority, so that a dry-run that
 * loops until the compute deadline holds up no message. Their number is bounded per process and per
 * connecting peer (the socket's address: never a claimed Owner, which anyone can claim); past a bound the
 * answer is a 429 (that peer has enough in flight) or a 503 (that process has), with `Retry-After`.
 *
 * AO's legacy compute unit does the like (permaweb/ao servers/cu/src/bootstrap.js): dry-runs go to their
 * own worker pool (30% of the evaluation workers, at least one), whose queue of 3,000 answers 429 when
 * full; and /dry-run is rate-limited per client IP (servers/cu/src/routes/middleware/withRateLimits.js,
 * 6 uncached dry-runs a minute by default, the IP read from X-Forwarded-For when a client sends one).
 */

export interface DryRunLimits {
  /** Dry-runs one connecting peer may have in flight (waiting or running), all processes together. */
  perPeer: number;
  /** Dry-runs in flight for one process, all peers together. */
  perProcess: number;
  /** aos instances serving dry-runs, all processes together (each holds a process's memory). */
  instances: number;
  /** Of those, how many one process may hold at once. */
  instancesPerProcess: number;
}

export const DEFAULT_DRY_RUN_LIMITS: DryRunLimits = {
  perPeer: 8,
  perProcess: 16,
  instances: 4,
  instancesPerProcess: 2,
};

/** What a client is told to wait before trying again, in seconds. */
export const RETRY_AFTER_SECONDS = 1;

/** A dry-run refused at admission: `status` 429 (the peer's bound) or 503 (the process's). */
export class DryRunRefused extends Error {
  readonly retryAfterSeconds = RETRY_AFTER_SECONDS;
  constructor(
    readonly status: 429 | 503,
    message: string,
  ) {
    super(message);
  }
}

/** Checks that every limit is a positive whole number; throws naming the one that is not. */
export function checkDryRunLimits(limits: DryRunLimits): DryRunLimits {
  for (const [name, value] of Object.entries(limits))
    if (!Number.isInteger(value) || value < 1)
      throw new Error(`dry-run limit ${name} ${value}: use a positive whole number`);
  if (limits.instancesPerProcess > limits.instances)
    throw new Error(
      `dry-run limit instancesPerProcess ${limits.instancesPerProcess} is more than instances ${limits.instances}: lower it`,
    );
  return limits;
}

/** Whether one more dry-run from `peer` for `process` may start, given what is in flight. Pure. */
export function admission(
  limits: DryRunLimits,
  inFlight: { peer: number; process: number },
  peer: string,
  process: string,
): DryRunRefused | undefined {
  if (inFlight.peer >= limits.perPeer)
    return new DryRunRefused(
      429,
      `too many dry-runs in flight from ${peer}: ${inFlight.peer} (the limit is ${limits.perPeer} per connecting peer); wait for their answers, then try again`,
    );
  if (inFlight.process >= limits.perProcess)
    return new DryRunRefused(
      503,
      `process ${process} has ${inFlight.process} dry-runs in flight (the limit is ${limits.perProcess} per process); try again shortly`,
    );
  return undefined;
}

/** An instance serving dry-runs: the process whose state it holds, at which nonce, and whether in use. */
export interface DryRunInstance<Vm> {
  process: string;
  /** The nonce whose state its memory holds; -1 with no instance started yet. */
  nonce: number;
  vm?: Vm;
  busy: boolean;
  lastUsed: number;
}

export type Choice<Vm> =
  | { kind: "reuse"; instance: DryRunInstance<Vm> }
  | { kind: "new" }
  | { kind: "repurpose"; instance: DryRunInstance<Vm> }
  | { kind: "wait" };

/**
 * Which instance a dry-run of `process` gets: an idle one already holding that process (the most advanced),
 * else a new one while the bounds allow, else an idle one of another process (the least recently used),
 * else it waits. Pure.
 */
export function chooseInstance<Vm>(
  instances: readonly DryRunInstance<Vm>[],
  process: string,
  limits: DryRunLimits,
): Choice<Vm> {
  const mine = instances.filter((i) => i.process === process);
  const idleMine = mine.filter((i) => !i.busy).sort((a, b) => b.nonce - a.nonce);
  if (idleMine[0]) return { kind: "reuse", instance: idleMine[0] };
  if (mine.length >= limits.instancesPerProcess) return { kind: "wait" };
  if (instances.length < limits.instances) return { kind: "new" };
  const idleOther = instances.filter((i) => !i.busy).sort((a, b) => a.lastUsed - b.lastUsed);
  if (idleOther[0]) return { kind: "repurpose", instance: idleOther[0] };
  return { kind: "wait" };
}

/** A slot taken at admission: `instance()` waits for an instance; `done()` gives everything back. */
export interface DryRunTicket<Vm> {
  instance(): Promise<DryRunInstance<Vm>>;
  /** The instance can no longer be used (stopped at the deadline, or failed): it leaves the pool. */
  discard(instance: DryRunInstance<Vm>): void;
  done(): void;
}

/**
 * Counts what is in flight and hands out instances. It starts and stops nothing itself: a new or
 * repurposed instance comes without a `vm` (or with one of another process, for `stop`), and the caller
 * brings it to the state it needs.
 */
export class DryRunPool<Vm> {
  private readonly instances: DryRunInstance<Vm>[] = [];
  private readonly byPeer = new Map<string, number>();
  private readonly byProcess = new Map<string, number>();
  private readonly waiters: { process: string; take: (i: DryRunInstance<Vm>) => void }[] = [];

  constructor(
    readonly limits: DryRunLimits,
    /** Stops an instance that leaves the pool, or whose process changes. */
    private readonly stop: (vm: Vm) => void,
    private readonly now: () => number,
  ) {}

  /** Admits a dry-run or throws `DryRunRefused`, at once: nothing is read or waited for before. */
  admit(peer: string, process: string): DryRunTicket<Vm> {
    const refused = admission(
      this.limits,
      { peer: this.byPeer.get(peer) ?? 0, process: this.byProcess.get(process) ?? 0 },
      peer,
      process,
    );
    if (refused) throw refused;
    bump(this.byPeer, peer, 1);
    bump(this.byProcess, process, 1);
    let held: DryRunInstance<Vm> | undefined;
    let finished = false;
    return {
      instance: async () => {
        held = await this.acquire(process);
        return held;
      },
      discard: (instance) => {
        const at = this.instances.indexOf(instance);
        if (at !== -1) this.instances.splice(at, 1);
        if (instance.vm) this.stop(instance.vm);
        instance.vm = undefined;
        if (held === instance) held = undefined;
        this.pump();
      },
      done: () => {
        if (finished) return;
        finished = true;
        bump(this.byPeer, peer, -1);
        bump(this.byProcess, process, -1);
        if (held) {
          held.busy = false;
          held.lastUsed = this.now();
          held = undefined;
          this.pump();
        }
      },
    };
  }

  /** Instances serving dry-runs now. */
  size(): number {
    return this.instances.length;
  }

  /** Every instance, to stop them all. */
  drain(): DryRunInstance<Vm>[] {
    return this.instances.splice(0);
  }

  private acquire(process: string): Promise<DryRunInstance<Vm>> {
    const got = this.take(process);
    if (got) return Promise.resolve(got);
    return new Promise((take) => this.waiters.push({ process, take }));
  }

  /** An instance for `process` per `chooseInstance`, marked busy; undefined when it must wait. */
  private take(process: string): DryRunInstance<Vm> | undefined {
    const choice = chooseInstance(this.instances, process, this.limits);
    let instance: DryRunInstance<Vm>;
    switch (choice.kind) {
      case "wait":
        return undefined;
      case "reuse":
        instance = choice.instance;
        break;
      case "new":
        instance = { process, nonce: -1, busy: false, lastUsed: this.now() };
        this.instances.push(instance);
        break;
      case "repurpose":
        instance = choice.instance;
        if (instance.vm) this.stop(instance.vm);
        Object.assign(instance, { process, nonce: -1, vm: undefined });
        break;
    }
    instance.busy = true;
    return instance;
  }

  /** Hands freed capacity to the waiters, in the order they came. */
  private pump(): void {
    for (let i = 0; i < this.waiters.length; ) {
      const w = this.waiters[i]!;
      const got = this.take(w.process);
      if (!got) {
        i++;
        continue;
      }
      this.waiters.splice(i, 1);
      w.take(got);
    }
  }
}

function bump(counts: Map<string, number>, key: string, by: number): void {
  const n = (counts.get(key) ?? 0) + by;
  if (n > 0) counts.set(key, n);
  else counts.delete(key);
}

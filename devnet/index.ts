import { mkdirSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { addressOf } from "../providers/wallet";
import { ComputeUnit, type DeadlineHit } from "./computeUnit";
import { type KeyLayout, openDataDir } from "./dataDir";
import { checkDryRunLimits, DEFAULT_DRY_RUN_LIMITS, type DryRunLimits } from "./dryRuns";
import { Gateway } from "./gateway";
import { createHttpServer } from "./http";
import { alreadyRunningMessage, explainListenError, runningOn } from "./inUse";
import { Messenger } from "./messenger";
import { loadModules } from "./modules";
import { describeNetwork, type NetworkInfo, writeNetworkFile } from "./networkFile";
import { Scheduler } from "./scheduler";
import { readWallet } from "./wallet";

export type { DeadlineHit } from "./computeUnit";
export type { KeyLayout } from "./dataDir";
export { AOS_MODULE_ID } from "./modules";
export type { NetworkInfo };

/**
 * AO mainnet's scheduler, which the aos CLI 2.0.16 and ao-deploy name in their spawns (permaweb/aos
 * src/config.js addresses.SCHEDULER_MAINNET); schedule.forward.computer signs its assignments.
 */
export const MAINNET_SCHEDULER = "n_XZJhUnmldNFo4dhajoPZWhBXuJk-OcQr5JQ49c4Zo";

export interface DevnetOptions {
  /** Data directory: logs, snapshots, the network's wallet, network.json. */
  dataDir: string;
  /** 0 picks a free port. */
  port?: number;
  host?: string;
  /** Live aos instances kept in memory (default 16); idle ones beyond are evicted to snapshots. */
  maxLive?: number;
  /** Snapshot a process every this many messages (default 500), bounding the replay after a crash. */
  snapshotEvery?: number;
  /**
   * Milliseconds of CPU time one message or dry-run may compute (default 10,000). Past it the evaluation
   * is stopped, the result carries an `Error`, and the process's state is as before the message.
   */
  computeDeadlineMs?: number;
  /**
   * One key per role (`distinct`: the node, the scheduler and the legacy messenger, as on AO), or the
   * scheduler's key for all three (`shared`). Applies to a new data directory; an existing one keeps its
   * layout (one written before role keys is `shared`). Default `distinct`.
   */
  keys?: KeyLayout;
  /**
   * Schedulers a spawn on the mainnet door may name besides this network's own (and the node's own
   * address): the real node forwards such a spawn there; this network schedules it itself and says so
   * once in its log. Default: AO mainnet's (MAINNET_SCHEDULER), so that the aos CLI's and ao-deploy's
   * defaults work unchanged. `[]` refuses every other scheduler.
   */
  foreignSchedulers?: readonly string[];
  /**
   * Also serve a second mainnet door on its own port (0 picks one) that schedules but computes nothing
   * (its compute routes answer 404): `urls.scheduleOnlyNode`. For stacks whose push node is not their
   * compute node.
   */
  scheduleOnlyNode?: { port?: number };
  /**
   * Dry-runs in flight per connecting peer and per process, and the instances of their own they run on
   * (devnet/dryRuns.ts; defaults in DEFAULT_DRY_RUN_LIMITS, `instancesPerProcess` at most `instances`).
   */
  dryRuns?: Partial<DryRunLimits>;
  log?: (line: string) => void;
}

export interface Devnet extends NetworkInfo {
  networkFile: string;
  dataDir: string;
  /** Waits until every message scheduled so far is evaluated and its outbox cranked. */
  settle(): Promise<void>;
  liveProcesses(): number;
  /** Messages and dry-runs stopped at the compute deadline since this start. */
  deadlineHits(): DeadlineHit[];
  /** aos instances serving dry-runs now (beside `liveProcesses()`). */
  dryRunInstances(): number;
  stop(): Promise<void>;
}

/**
 * Ten seconds of the evaluating thread's CPU time (wall-clock time where that cannot be read): a process's
 * boot takes about 0.2 s of CPU here, a registry message milliseconds, and JSON nested 3,000 deep about
 * 0.25 s, so only runaway work meets it; counting CPU time keeps a busy machine, where those same messages
 * take ten times longer by the clock, from stopping them; and a client still gets its answer well within
 * the usual 30-60 s HTTP timeouts.
 */
export const DEFAULT_COMPUTE_DEADLINE_MS = 10_000;

/** Starts the local AO network: messenger, scheduler, compute unit and gateway on one HTTP port. */
export async function startDevnet(opts: DevnetOptions): Promise<Devnet> {
  const computeDeadlineMs = opts.computeDeadlineMs ?? DEFAULT_COMPUTE_DEADLINE_MS;
  if (!Number.isInteger(computeDeadlineMs) || computeDeadlineMs < 1)
    throw new Error(`computeDeadlineMs ${computeDeadlineMs}: use a positive whole number of milliseconds`);
  const instances = opts.dryRuns?.instances ?? DEFAULT_DRY_RUN_LIMITS.instances;
  const dryRunLimits = checkDryRunLimits({
    ...DEFAULT_DRY_RUN_LIMITS,
    instancesPerProcess: Math.min(DEFAULT_DRY_RUN_LIMITS.instancesPerProcess, instances),
    ...opts.dryRuns,
  });
  const dataDir = resolve(opts.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const log = opts.log ?? (() => {});
  // Before anything reads the journals: a network running on them may be writing to them.
  const known = readWallet(join(dataDir, "wallet.json"));
  const running = known ? await runningOn(dataDir, addressOf(known.n)) : undefined;
  if (running) throw new Error(alreadyRunningMessage(dataDir, running));
  // Every check next: a damaged data directory stops the start before any file is changed.
  const { address, keys, logs } = openDataDir(dataDir, opts.keys ? { keys: opts.keys } : {});
  const modules = await loadModules();

  let baseUrl = "";
  const deadlineHits: DeadlineHit[] = [];
  const scheduler = new Scheduler(join(dataDir, "processes"), address);
  scheduler.load(logs, log);
  const messenger = new Messenger({
    scheduler,
    modules,
    wallet: keys.messenger.jwk,
    node: keys.node,
    foreignSchedulers: opts.foreignSchedulers ?? [MAINNET_SCHEDULER],
    log,
  });
  const cu = new ComputeUnit({
    dir: join(dataDir, "compute"),
    scheduler,
    modules,
    moduleOwner: address,
    maxLive: opts.maxLive ?? 16,
    snapshotEvery: opts.snapshotEvery ?? 500,
    computeDeadlineMs,
    dryRunLimits,
    onEvaluated: (s, result) => void messenger.crank(s, result),
    log,
    onDeadline: (hit) => {
      deadlineHits.push(hit);
      const what = hit.nonce === undefined ? "a dry-run" : `message ${hit.nonce}`;
      log(`process ${hit.process}: ${what} ran past the compute deadline of ${hit.ms} ms and was stopped`);
    },
  });
  const gateway = new Gateway({ scheduler, modules, address, suUrl: () => `${baseUrl}/su` });

  let scheduleOnlyUrl: string | undefined;
  const info = (): NetworkInfo =>
    describeNetwork(baseUrl, modules, address, {
      messenger: keys.messenger.address,
      node: keys.node.address,
      ...(scheduleOnlyUrl ? { scheduleOnlyNode: scheduleOnlyUrl } : {}),
    });
  const units = {
    messenger,
    scheduler,
    cu,
    gateway,
    nodeAddress: keys.node.address,
    info: () => ({ ...info() }),
    log,
  };
  const http = createHttpServer(units);
  const second = opts.scheduleOnlyNode ? createHttpServer(units, "schedule-only node") : undefined;
  const host = opts.host ?? "127.0.0.1";
  const listen = (server: typeof http.server, port: number) =>
    new Promise<void>((ok, fail) => {
      server.once("error", fail);
      server.listen(port, host, () => ok());
    }).catch(async (err: unknown) => {
      await http.close();
      scheduler.close();
      throw await explainListenError(err, { host, port, dataDir, schedulerId: address });
    });
  await listen(http.server, opts.port ?? 0);
  const { port } = http.server.address() as AddressInfo;
  baseUrl = `http://${opts.host ?? "127.0.0.1"}:${port}`;
  if (second) {
    await listen(second.server, opts.scheduleOnlyNode?.port ?? 0);
    scheduleOnlyUrl = `http://${host}:${(second.server.address() as AddressInfo).port}`;
  }

  // After a restart: finish evaluating what was acknowledged, and crank what was evaluated but not sent.
  for (const id of scheduler.processes.keys()) {
    // A crank logs its own delivery errors and never rejects; settle() and stop() await what is under way.
    for (const { nonce, result } of cu.storedResults(id))
      void messenger.crank(scheduler.processes.get(id)!.messages[nonce]!, result);
  }
  cu.resumeAll();

  const networkFile = join(dataDir, "network.json");
  // The pid tells a second start what holds the data directory or the port (devnet/inUse.ts).
  writeNetworkFile(networkFile, { ...info(), pid: process.pid });

  async function settle(): Promise<void> {
    for (;;) {
      const pending = [...scheduler.processes.keys()].filter(
        (id) => cu.storedResults(id).length <= scheduler.processes.get(id)!.durable,
      );
      await Promise.all(
        pending.map((id) => cu.result(id, scheduler.processes.get(id)!.messages.at(-1)!.item.id)),
      );
      await messenger.idle();
      const again = [...scheduler.processes.keys()].some(
        (id) => cu.storedResults(id).length <= scheduler.processes.get(id)!.durable,
      );
      if (!again && pending.length === 0) return;
    }
  }

  return {
    ...info(),
    networkFile,
    dataDir,
    settle,
    liveProcesses: () => cu.liveCount(),
    deadlineHits: () => [...deadlineHits],
    dryRunInstances: () => cu.dryRunInstances(),
    async stop() {
      await second?.close();
      await http.close();
      await messenger.idle();
      await cu.stop();
      scheduler.close();
    },
  };
}

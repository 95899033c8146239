/**
 * AoActiveProcess: the process a stack names (its outputs, the CLI's secret), as a resource of its own.
 *
 * Pulumi never hands `create` the resource being replaced: a replacement runs create (the new process),
 * then the update of every dependent, then delete (the old one). This resource is that dependent. Its
 * inputs name the AoProcess's current process, so its `update` sees both the previous process (its own
 * state) and the next one (its inputs), and moves the state from one to the other (stateMove.ts) before
 * it reports the next one. Until a move completes, its state (and so every output that comes from it)
 * names the previous process, which holds all the data; a failed move leaves it there, and the next
 * `pulumi up` resumes from what both processes report.
 *
 * create opens a fresh process (nothing to move into it). delete does nothing: AO processes stay.
 */
import * as pulumi from "@pulumi/pulumi";
import type { AoProcess } from "./aoProcess";
import { aoIdSchema, type Endpoints, endpointsSchema, PREVIEW_UNKNOWN, rule, show } from "./aoValues";
import { DEFAULT_BACKUP_DIR, fileBackupStore } from "./backupStore";
import { CHECK_RETRY_MS, pipelineEnv } from "./effects";
import { isError } from "./errors";
import { logFor } from "./log";
import { PROVIDER_PACKAGE, ProviderShim } from "./shim";
import { withStackWallet } from "./stackWallet";
import { describeSize, type MoveReport, moveStateWith, settleProcessWith } from "./stateMove";
import {
  DEFAULT_PAGE_BYTES,
  MAX_PAGE_BYTES,
  MIN_PAGE_BYTES,
  type TransferClient,
  transferClient,
} from "./stateTransfer";
import { booleanRule, type CheckFailure, checkResultOf, schemaFailures } from "./validate";
import { type Jwk, walletAddress } from "./wallet";

const log = logFor("AoActiveProcess");

/** What the stack says about its process; every one comes from the AoProcess. */
export interface ActiveInputs {
  processId: string;
  endpoints: Endpoints;
  codeSha256: string;
  module: string;
  scheduler: string;
  /** The process's authority (on AO mainnet the node's address, resolved when it was created). */
  authority?: string;
  owner: string;
  deploymentId: string;
  deployedAt: string;
  /** Move the state when the process changes (the process speaks STATE-TRANSFER.md). Default true. */
  stateTransfer: boolean;
  /** Switch processes without moving when an end does not speak the protocol (a rollback to an old release). */
  acceptDataLoss: boolean;
  /** Canonical bytes of entries per imported page. */
  pageBytes: number;
  /** Where move backups are written (relative to the deploy's working directory). Not compared by diff. */
  backupDir: string;
}

export interface ActiveOutputs extends ActiveInputs {
  /** The process this one replaced through a completed move (frozen, tagging replies Moved-To this one). */
  previousProcessId?: string;
  /** The state the process reported when it became active. */
  digest?: string;
  entries?: number;
  /** The last move that made it active. */
  lastMove?: MoveReport;
}

/** What the active process takes from the AoProcess it names (its outputs, or their values). */
export const PROCESS_FIELDS = [
  "processId",
  "endpoints",
  "codeSha256",
  "module",
  "scheduler",
  "authority",
  "owner",
  "deploymentId",
  "deployedAt",
] as const;
type ProcessField = (typeof PROCESS_FIELDS)[number];

export function processFields<T extends { [K in ProcessField]?: unknown }>(p: T): Pick<T, ProcessField> {
  return Object.fromEntries(PROCESS_FIELDS.map((k) => [k, p[k]])) as Pick<T, ProcessField>;
}

/** Properties that say how to deploy, not what is deployed: a change is recorded, nothing more. */
const NOT_COMPARED = ["backupDir", "__provider"];

export function activeInputsSchema() {
  const z = (require("zod") as typeof import("zod")).z;
  const text = rule<string>((v) => (typeof v === "string" ? undefined : `${show(v)} must be a string`));
  const pageBytes = rule<number>((v) =>
    Number.isInteger(v) && (v as number) >= MIN_PAGE_BYTES && (v as number) <= MAX_PAGE_BYTES
      ? undefined
      : `${show(v)} must be a whole number of bytes from ${MIN_PAGE_BYTES} to ${MAX_PAGE_BYTES} (State-Import pages stay under 1 MiB)`,
  );
  return z.object({
    processId: aoIdSchema(),
    endpoints: endpointsSchema(),
    codeSha256: text,
    module: aoIdSchema(),
    scheduler: aoIdSchema(),
    authority: aoIdSchema().optional(),
    owner: aoIdSchema(),
    deploymentId: text,
    deployedAt: text,
    stateTransfer: booleanRule().optional(),
    acceptDataLoss: booleanRule().optional(),
    pageBytes: pageBytes.optional(),
    backupDir: text.optional(),
  });
}

export function checkActiveInputs(news: Record<string, unknown>): {
  inputs?: ActiveInputs;
  failures: CheckFailure[];
} {
  const failures = schemaFailures(activeInputsSchema(), news);
  if (failures.length) return { failures };
  return {
    failures: [],
    inputs: {
      ...(news as unknown as ActiveInputs),
      stateTransfer: (news.stateTransfer as boolean | undefined) ?? true,
      acceptDataLoss: (news.acceptDataLoss as boolean | undefined) ?? false,
      pageBytes: (news.pageBytes as number | undefined) ?? DEFAULT_PAGE_BYTES,
      backupDir: (news.backupDir as string | undefined) ?? DEFAULT_BACKUP_DIR,
    },
  };
}

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** Never a replacement: this resource is a pointer, and an update is where the state moves. */
export function activeDiff(olds: Partial<ActiveOutputs>, news: ActiveInputs): pulumi.dynamic.DiffResult {
  const changed = (Object.keys(news) as (keyof ActiveInputs)[]).filter(
    (k) => !NOT_COMPARED.includes(k) && !same(olds[k], news[k]),
  );
  return changed.length ? { changes: true, replaces: [], deleteBeforeReplace: false } : { changes: false };
}

const recorded = (inputs: ActiveInputs): ActiveInputs => {
  const { __provider: _, ...rest } = inputs as ActiveInputs & { __provider?: unknown };
  return rest;
};

export class ActiveProcessProvider implements pulumi.dynamic.ResourceProvider<ActiveInputs, ActiveOutputs> {
  private stackConfig?: pulumi.dynamic.Config;

  async configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
    this.stackConfig = req.config;
  }

  async check(_olds: ActiveInputs, news: ActiveInputs): Promise<pulumi.dynamic.CheckResult<ActiveInputs>> {
    return checkResultOf(checkActiveInputs(news as unknown as Record<string, unknown>));
  }

  /** The diff, and for a preview of a move: how much will move (read from the current process). */
  async diff(_id: string, olds: ActiveOutputs, news: ActiveInputs): Promise<pulumi.dynamic.DiffResult> {
    const result = activeDiff(olds, news);
    if (result.changes && news.stateTransfer && olds.processId && news.processId !== olds.processId) {
      const next = news.processId === PREVIEW_UNKNOWN ? "the new process" : news.processId;
      try {
        const env = pipelineEnv(olds.endpoints, undefined, CHECK_RETRY_MS);
        const info = await transferClient(env, olds.endpoints, olds.processId, undefined).info();
        log(`will move the state of ${olds.processId} (${describeSize(info, news.pageBytes)}) into ${next}`);
      } catch (err) {
        log(
          `will move the state of ${olds.processId} into ${next} (its size could not be read: ${(err as Error).message})`,
        );
      }
    }
    return result;
  }

  async create(inputs: ActiveInputs): Promise<pulumi.dynamic.CreateResult<ActiveOutputs>> {
    return withStackWallet(this.stackConfig, async (wallet) => ({
      id: "active",
      outs: await this.settle(inputs, wallet, {}),
    }));
  }

  async update(
    _id: string,
    olds: ActiveOutputs,
    news: ActiveInputs,
  ): Promise<pulumi.dynamic.UpdateResult<ActiveOutputs>> {
    return withStackWallet(this.stackConfig, async (wallet) => {
      if (olds.processId === news.processId) {
        const { previousProcessId, lastMove } = olds;
        return { outs: await this.settle(news, wallet, { previousProcessId, lastMove }) };
      }
      return { outs: await this.move(olds, news, wallet) };
    });
  }

  /** Refresh keeps the state: the processes themselves are read by every update. */
  async read(id: string, props?: ActiveOutputs): Promise<pulumi.dynamic.ReadResult<ActiveOutputs>> {
    return { id, props };
  }

  async delete(): Promise<void> {
    log("the stack no longer names an active process; every process keeps running");
  }

  private clients(endpoints: Endpoints, wallet: Jwk) {
    const env = pipelineEnv(endpoints, wallet);
    return (id: string): TransferClient => transferClient(env, endpoints, id, walletAddress(wallet));
  }

  /** The named process, ready to serve: opened when new, unfrozen when its move was abandoned. */
  private async settle(
    inputs: ActiveInputs,
    wallet: Jwk,
    kept: Pick<ActiveOutputs, "previousProcessId" | "lastMove">,
  ): Promise<ActiveOutputs> {
    const outs: ActiveOutputs = { ...recorded(inputs), ...stripUndefined(kept) };
    if (!inputs.stateTransfer) return outs;
    const clientFor = this.clients(inputs.endpoints, wallet);
    const info = await settleProcessWith({ log })(
      clientFor(inputs.processId),
      walletAddress(wallet),
      clientFor,
    );
    return { ...outs, digest: info.digest, entries: info.entries };
  }

  /** The state of the previous process moves into the next; only then is the next one reported. */
  private async move(olds: ActiveOutputs, news: ActiveInputs, wallet: Jwk): Promise<ActiveOutputs> {
    if (!news.stateTransfer) {
      log(`now naming ${news.processId} instead of ${olds.processId} (stateTransfer is off: nothing moved)`);
      return { ...recorded(news), previousProcessId: olds.processId };
    }
    const fromClient = this.clients(olds.endpoints, wallet);
    const toClient = this.clients(news.endpoints, wallet);
    const move = moveStateWith({ log, now: () => new Date(), backup: fileBackupStore(news.backupDir) });
    try {
      const report = await move({
        from: fromClient(olds.processId),
        to: toClient(news.processId),
        wallet: walletAddress(wallet),
        pageBytes: news.pageBytes,
        clientFor: fromClient,
      });
      return {
        ...recorded(news),
        previousProcessId: olds.processId,
        digest: report.digest,
        entries: report.entries,
        lastMove: report,
      };
    } catch (err) {
      if (!(isError(err, "NoTransferProtocol") && news.acceptDataLoss)) throw err;
      log(
        `WARNING: ${(err as Error).message}. acceptDataLoss is set: naming ${news.processId} without moving ` +
          `anything; what ${olds.processId} holds stays there and is not in ${news.processId}`,
      );
      // Open the new process if it speaks the protocol (it starts sealed); one that does not needs nothing.
      const settled = await this.settle(news, wallet, {}).catch((e: unknown) => {
        if (isError(e, "NoTransferProtocol")) return recorded(news);
        throw e;
      });
      return { ...settled, previousProcessId: olds.processId };
    }
  }
}

const stripUndefined = <T extends object>(o: T): Partial<T> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;

export interface AoActiveProcessArgs {
  /** The process to name; its state moves here when it replaces the previous one. */
  process: AoProcess;
  /** Default true: the process speaks the state-transfer protocol. */
  stateTransfer?: pulumi.Input<boolean>;
  /** Switch to a process that cannot receive the state anyway (explicit loss; a rollback input). */
  acceptDataLoss?: pulumi.Input<boolean>;
  /** Canonical bytes per imported page (1 KiB to 512 KiB, default 256 KiB). */
  pageBytes?: pulumi.Input<number>;
  /** Directory of move backups (default `.ao-backups`). */
  backupDir?: pulumi.Input<string>;
}

export class AoActiveProcess extends pulumi.dynamic.Resource {
  declare readonly processId: pulumi.Output<string>;
  declare readonly endpoints: pulumi.Output<Endpoints>;
  declare readonly codeSha256: pulumi.Output<string>;
  declare readonly module: pulumi.Output<string>;
  declare readonly scheduler: pulumi.Output<string>;
  declare readonly authority: pulumi.Output<string | undefined>;
  declare readonly owner: pulumi.Output<string>;
  declare readonly deploymentId: pulumi.Output<string>;
  declare readonly deployedAt: pulumi.Output<string>;
  declare readonly previousProcessId: pulumi.Output<string | undefined>;
  declare readonly digest: pulumi.Output<string | undefined>;
  declare readonly entries: pulumi.Output<number | undefined>;

  constructor(name: string, args: AoActiveProcessArgs, opts?: pulumi.CustomResourceOptions) {
    const p = args.process;
    super(
      new ProviderShim(PROVIDER_PACKAGE, "ActiveProcessProvider"),
      name,
      {
        ...processFields(p),
        stateTransfer: args.stateTransfer,
        acceptDataLoss: args.acceptDataLoss,
        pageBytes: args.pageBytes,
        backupDir: args.backupDir,
        previousProcessId: undefined,
        digest: undefined,
        entries: undefined,
      },
      opts,
      "ao",
      "ActiveProcess",
    );
  }
}

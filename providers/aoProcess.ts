/**
 * The AoProcess dynamic resource (SST provider shape): public `AoProcessArgs` of pulumi Inputs,
 * plain internal `Inputs`/`Outputs` (types.ts), a `Provider`, and the `AoProcess` resource that
 * declares its outputs.
 *
 * - The Lua code is bundled in the program when the resource is declared (`entry`), so the provider
 *   host never reads files. `check` validates, compiles (Lua 5.3) and hashes: no network, no wallet.
 * - The wallet is read at call time inside create/update: the stack config secret `<project>:wallet`
 *   (`aoRegistry:wallet`), which the dynamic-provider host hands to `configure`, else AO_WALLET_JWK /
 *   AO_WALLET_FILE (wallet.ts). Never an input, never captured: only the host ever configures a Provider,
 *   after deserializing it; the program serializes a fresh, unconfigured one.
 * - aoconnect is required inside the adapter's methods (aoClient.ts), never at module top level.
 * - delete is a documented no-op: AO processes cannot be destroyed.
 */
import * as pulumi from "@pulumi/pulumi";
import { createAoClient } from "./aoClient";
import { bundleLua } from "./bundle";
import { diff } from "./diff";
import { sha256Hex } from "./hash";
import { formatLuaError, luaCheck } from "./luaCheck";
import { deployWith, liveCodeHashWith, type PipelineEnv } from "./pipeline";
import { withRetry } from "./retry";
import {
  DEFAULT_VALIDATION,
  type Endpoints,
  type Inputs,
  type Outputs,
  type Tag,
  type UpgradeStrategy,
} from "./types";
import { type CheckFailure, validateInputs } from "./validate";
import { type ConfigWallet, type Jwk, readWallet, redact, WALLET_CONFIG_KEY, walletAddress } from "./wallet";

export interface AoProcessArgs {
  /** Lua entry file; it and every module it requires are bundled now (bundleLua). Or give `code`. */
  entry?: string;
  /** Lua code to deploy as it is (instead of `entry`). */
  code?: pulumi.Input<string>;
  module: pulumi.Input<string>;
  scheduler: pulumi.Input<string>;
  authority?: pulumi.Input<string>;
  /** The process `Name` tag. */
  name: pulumi.Input<string>;
  /** Extra spawn tags: a record (sorted by name) or a list. A change replaces the process. */
  tags?: pulumi.Input<Record<string, pulumi.Input<string>> | pulumi.Input<Tag>[]>;
  endpoints: pulumi.Input<{
    mu: pulumi.Input<string>;
    cu: pulumi.Input<string>;
    gateway: pulumi.Input<string>;
  }>;
  /** `replace` (default): a new process per code change; `eval`: load it into the same process. */
  upgrade?: pulumi.Input<UpgradeStrategy>;
  /** What validation expects: dry-run `action` (default Info) replying `hashTag` (default Code-Sha256). */
  validation?: pulumi.Input<{
    action?: pulumi.Input<string>;
    hashTag?: pulumi.Input<string>;
    skip?: pulumi.Input<boolean>;
  }>;
  /** Adopt this existing process instead of spawning one. */
  processId?: pulumi.Input<string>;
}

/** Pulumi's marker for a value not known during preview. */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

function valueAt(obj: Record<string, unknown>, property: string): unknown {
  return property
    .split(/[.[\]]/)
    .filter(Boolean)
    .reduce<unknown>(
      (o, k) => (o && typeof o === "object" ? (o as Record<string, unknown>)[k] : undefined),
      obj,
    );
}

/** Tags as a list: a record becomes name-sorted pairs (map order does not survive serialization). */
export function normalizeTags(tags: unknown): unknown {
  if (tags === undefined || tags === null) return [];
  if (Array.isArray(tags)) return tags;
  if (typeof tags === "object") {
    return Object.keys(tags)
      .sort()
      .map((name) => ({ name, value: (tags as Record<string, unknown>)[name] }));
  }
  return tags;
}

/** check: validation, then the Lua 5.3 compile, then defaults and the code hash. Pure. */
export function checkInputs(news: Record<string, unknown>): { inputs?: Inputs; failures: CheckFailure[] } {
  const raw: Record<string, unknown> = { ...news, tags: normalizeTags(news.tags) };
  const failures = validateInputs(raw).filter((f) => valueAt(raw, f.property) !== UNKNOWN);
  if (failures.length) return { failures };
  const code = raw.code as string;
  if (code !== UNKNOWN) {
    const syntax = luaCheck(code);
    if (syntax.length)
      return { failures: syntax.map((e) => ({ property: "code", reason: formatLuaError(e) })) };
  }
  const validation = (raw.validation ?? {}) as Partial<Inputs["validation"]>;
  const inputs: Inputs = {
    ...(raw as unknown as Inputs),
    codeSha256: code === UNKNOWN ? UNKNOWN : sha256Hex(code),
    tags: raw.tags as Tag[],
    upgrade: (raw.upgrade as UpgradeStrategy | undefined) ?? "replace",
    validation: { ...DEFAULT_VALIDATION, ...validation },
  };
  return { inputs, failures: [] };
}

function newDeploymentId(): string {
  const { randomUUID } = require("node:crypto") as typeof import("node:crypto");
  return randomUUID();
}

function log(message: string): void {
  const p = require("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
  p.log.info(`AoProcess: ${message}`);
}

function pipelineEnv(endpoints: Endpoints, wallet: Jwk | undefined): PipelineEnv {
  return {
    client: createAoClient(endpoints, wallet),
    retry: (step, endpoint, fn) =>
      withRetry(fn, {
        step,
        endpoint,
        totalMs: 120_000,
        onRetry: (i) => log(`${i.step} at ${i.endpoint}: ${i.reason}, retrying in ${i.delayMs} ms`),
      }),
    now: () => new Date(),
    log,
  };
}

/** Re-throws with any key material removed from the message, keeping init-error fields. */
function scrubbed(err: unknown, wallet: Jwk | undefined): Error {
  const e = err instanceof Error ? err : new Error(String(err));
  e.message = redact(e.message, wallet);
  const reasons = (e as { reasons?: unknown }).reasons;
  if (Array.isArray(reasons))
    (e as { reasons?: unknown }).reasons = reasons.map((r) => redact(String(r), wallet));
  return e;
}

const withoutProvider = <T extends object>(o: T): T => {
  const { __provider: _, ...rest } = o as T & { __provider?: unknown };
  return rest as T;
};

/** `<project>:wallet` from the stack config the host gave `configure`; the value is read now, at call time. */
function configWallet(config: pulumi.dynamic.Config | undefined): ConfigWallet {
  const p = require("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
  const key = `${p.getProject()}:${WALLET_CONFIG_KEY}`;
  let value: unknown;
  try {
    value = config?.get(WALLET_CONFIG_KEY);
  } catch {
    value = undefined; // the host was never sent a Configure: no stack config
  }
  // The engine sends config values as strings; a structured value would be an object.
  return { key, value: typeof value === "string" || value === undefined ? value : JSON.stringify(value) };
}

export class Provider implements pulumi.dynamic.ResourceProvider<Inputs, Outputs> {
  /**
   * The stack config, from the dynamic-provider host (never set in the program, so never serialized).
   * Only a reference: the wallet in it is read when create/update needs it.
   */
  private stackConfig?: pulumi.dynamic.Config;

  /** Called by the host once, when it first loads this provider, with the whole stack config. */
  async configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
    this.stackConfig = req.config;
  }

  private wallet(): Jwk {
    return readWallet(process.env, configWallet(this.stackConfig));
  }
  async check(_olds: Inputs, news: Inputs): Promise<pulumi.dynamic.CheckResult<Inputs>> {
    const result = checkInputs(news as unknown as Record<string, unknown>);
    return result.failures.length ? { failures: result.failures } : { inputs: result.inputs! };
  }

  async diff(_id: string, olds: Outputs, news: Inputs): Promise<pulumi.dynamic.DiffResult> {
    return diff(olds, news);
  }

  async create(inputs: Inputs): Promise<pulumi.dynamic.CreateResult<Outputs>> {
    let wallet: Jwk | undefined;
    try {
      wallet = this.wallet();
      const owner = walletAddress(wallet);
      const outs = await deployWith(pipelineEnv(inputs.endpoints, wallet))(
        {
          inputs: withoutProvider(inputs),
          deploymentId: newDeploymentId(),
          owner,
          processId: inputs.processId,
        },
        { __provider: (inputs as { __provider?: unknown }).__provider },
      );
      return { id: outs.processId, outs };
    } catch (err) {
      throw scrubbed(err, wallet);
    }
  }

  /** Loads the code into the existing process: strategy `eval`, or resuming after an init error. */
  async update(id: string, olds: Outputs, news: Inputs): Promise<pulumi.dynamic.UpdateResult<Outputs>> {
    const complete = Boolean(olds.deployedAt) && olds.codeSha256 === news.codeSha256;
    if (complete) {
      // Only endpoints, validation or the strategy changed: nothing to send to AO.
      const { processId: _adopt, code: _code, ...rest } = withoutProvider(news);
      const { code: _oldCode, ...kept } = olds as Outputs & { code?: string }; // state written before outputs left the code out
      return { outs: { ...kept, ...rest, processId: id } };
    }
    let wallet: Jwk | undefined;
    try {
      wallet = this.wallet();
      const owner = olds.owner || walletAddress(wallet);
      const outs = await deployWith(pipelineEnv(news.endpoints, wallet))(
        {
          inputs: withoutProvider(news),
          deploymentId: olds.deploymentId || newDeploymentId(),
          owner,
          processId: id,
        },
        { __provider: (news as { __provider?: unknown }).__provider },
      );
      return { outs };
    } catch (err) {
      throw scrubbed(err, wallet);
    }
  }

  /** Refresh: dry-runs the validation action (no wallet) and reports drift of the live code hash. */
  async read(id: string, props?: Outputs): Promise<pulumi.dynamic.ReadResult<Outputs>> {
    if (!props?.endpoints || props.validation?.skip) return { id, props };
    const live = await liveCodeHashWith(pipelineEnv(props.endpoints, undefined))(id, props, props.owner);
    if (live !== undefined && live !== props.codeSha256) {
      log(`process ${id} reports code ${live}, but the state records ${props.codeSha256}: drift`);
      return { id, props: { ...props, codeSha256: live } };
    }
    return { id, props };
  }

  /** AO processes cannot be destroyed: the process keeps running; it only leaves the stack. */
  async delete(id: string): Promise<void> {
    log(`process ${id} is no longer managed; AO processes cannot be destroyed, so it keeps running`);
  }
}

export class AoProcess extends pulumi.dynamic.Resource {
  declare readonly processId: pulumi.Output<string>;
  declare readonly codeSha256: pulumi.Output<string>;
  declare readonly evalMessageId: pulumi.Output<string>;
  declare readonly module: pulumi.Output<string>;
  declare readonly scheduler: pulumi.Output<string>;
  declare readonly owner: pulumi.Output<string>;
  declare readonly deployedAt: pulumi.Output<string>;
  declare readonly deploymentId: pulumi.Output<string>;

  constructor(name: string, args: AoProcessArgs, opts?: pulumi.CustomResourceOptions) {
    if ((args.entry === undefined) === (args.code === undefined)) {
      throw new Error(`AoProcess ${name}: give exactly one of \`entry\` (a Lua file to bundle) or \`code\`.`);
    }
    const { entry, ...rest } = args;
    const code = entry !== undefined ? bundleLua(entry).code : args.code;
    super(
      new Provider(),
      name,
      {
        ...rest,
        code,
        processId: args.processId,
        codeSha256: undefined,
        evalMessageId: undefined,
        owner: undefined,
        deployedAt: undefined,
        deploymentId: undefined,
      },
      opts,
      "ao",
      "AoProcess",
    );
  }
}

/**
 * The AoProcess dynamic resource (SST's provider shape): the public `AoProcessArgs` of pulumi Inputs,
 * the `Provider`, and the `AoProcess` resource that declares its outputs. Plain `Inputs`/`Outputs` are
 * in types.ts; the decisions beside it: check.ts, diff.ts, pipeline.ts (create/update/read), each
 * a pure function or built from injected effects (effects.ts).
 *
 * - The resource serializes a shim (shim.ts), not this Provider: the dynamic-provider host loads this
 *   module from the compiled package (`providers/dist`, built by `npm ci`) by name.
 * - The Lua code is bundled in the program when the resource is declared (`entry`), so the provider
 *   host never reads files. `check` validates, compiles (Lua 5.3) and hashes: no network, no wallet.
 * - The wallet is read at call time inside create/update (stackWallet.ts): never an input, never in the
 *   serialized shim. Errors leave through hostError.ts (redacted, bounded).
 * - aoconnect is required inside the adapter's methods (aoClient.ts), never at module top level.
 * - delete is a documented no-op: AO processes cannot be destroyed.
 */
import * as pulumi from "@pulumi/pulumi";
import { bundleLua } from "./bundle";
import { checkInputs } from "./check";
import { diff, sameProgramOnly } from "./diff";
import { CHECK_RETRY_MS, newDeploymentId, pipelineEnv } from "./effects";
import { hostError } from "./hostError";
import { log } from "./log";
import { createStart, deployWith, refreshWith, settledUpdate, updateStart } from "./pipeline";
import { replacementReadinessWith } from "./replacementReadiness";
import { ProviderShim } from "./shim";
import { optionalStackWallet, withStackWallet } from "./stackWallet";
import type { Inputs, Outputs, Tag, UpgradeStrategy } from "./types";
import { checkResultOf } from "./validate";
import { walletAddress } from "./wallet";

export { checkInputs } from "./check";

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
  /**
   * The network, and so the mode the provider speaks: AO's legacy network `{ mu, cu, gateway }`
   * (`network: "legacy"` or omitted), or AO mainnet `{ network: "mainnet", node }` (a HyperBEAM node;
   * `authority` is then required: the node's address). A change of network replaces the process.
   */
  endpoints: pulumi.Input<
    | {
        network?: pulumi.Input<"legacy">;
        mu: pulumi.Input<string>;
        cu: pulumi.Input<string>;
        gateway: pulumi.Input<string>;
      }
    | { network: pulumi.Input<"mainnet">; node: pulumi.Input<string> }
  >;
  /** `replace` (default): a new process per code change; `eval`: load it into the same process. */
  upgrade?: pulumi.Input<UpgradeStrategy>;
  /** What validation expects: dry-run `action` (default Info) replying `hashTag` (default Code-Sha256). */
  validation?: pulumi.Input<{
    action?: pulumi.Input<string>;
    hashTag?: pulumi.Input<string>;
    skip?: pulumi.Input<boolean>;
  }>;
  /** Adopt this existing process instead of spawning one. */
  adoptProcessId?: pulumi.Input<string>;
  /**
   * The process speaks the state-transfer protocol (STATE-TRANSFER.md): a replacement first checks that
   * the old process can hand its state over, and an AoActiveProcess moves it. Default false.
   */
  stateTransfer?: pulumi.Input<boolean>;
}

const providerOf = (inputs: Inputs) => ({ __provider: (inputs as { __provider?: unknown }).__provider });

export class Provider implements pulumi.dynamic.ResourceProvider<Inputs, Outputs> {
  /** The stack config from the host's Configure (a reference: the wallet in it is read at call time). */
  private stackConfig?: pulumi.dynamic.Config;

  /** Called by the host once, when it first loads the provider, with the whole stack config. */
  async configure(req: pulumi.dynamic.ConfigureRequest): Promise<void> {
    this.stackConfig = req.config;
  }

  async check(_olds: Inputs, news: Inputs): Promise<pulumi.dynamic.CheckResult<Inputs>> {
    return checkResultOf(checkInputs(news as unknown as Record<string, unknown>));
  }

  /**
   * The pure diff; a replacement of a process whose state must follow is first proven possible
   * (replacementReadiness: the old process speaks the state-transfer protocol and the wallet owns it),
   * so that an impossible move stops the deploy before anything is spawned.
   */
  async diff(id: string, olds: Outputs, news: Inputs): Promise<pulumi.dynamic.DiffResult> {
    const result = diff(olds, news);
    if (sameProgramOnly(olds, news))
      log(
        `the code changed only in comments or layout (same program): it is loaded into ${id} by an Eval, keeping its state; no new process`,
      );
    if (result.replaces?.length && news.stateTransfer) {
      const wallet = optionalStackWallet(this.stackConfig);
      try {
        await replacementReadinessWith(
          pipelineEnv(olds.endpoints ?? news.endpoints, wallet, CHECK_RETRY_MS),
          log,
        )(olds, wallet && walletAddress(wallet));
      } catch (err) {
        throw hostError(err, wallet);
      }
    }
    return result;
  }

  async create(inputs: Inputs): Promise<pulumi.dynamic.CreateResult<Outputs>> {
    return withStackWallet(this.stackConfig, async (wallet) => {
      const start = createStart(inputs, walletAddress(wallet), newDeploymentId());
      const outs = await deployWith(pipelineEnv(inputs.endpoints, wallet))(start, providerOf(inputs));
      return { id: outs.processId, outs };
    });
  }

  /** Loads the code into the existing process: strategy `eval`, or resuming after an init error. */
  async update(id: string, olds: Outputs, news: Inputs): Promise<pulumi.dynamic.UpdateResult<Outputs>> {
    const settled = settledUpdate(id, olds, news);
    if (settled) return { outs: settled };
    return withStackWallet(this.stackConfig, async (wallet) => {
      const start = updateStart(id, olds, news, walletAddress(wallet), newDeploymentId());
      return { outs: await deployWith(pipelineEnv(news.endpoints, wallet))(start, providerOf(news)) };
    });
  }

  /** Refresh: dry-runs the validation action (no wallet) and reports drift of the live code hash. */
  async read(id: string, props?: Outputs): Promise<pulumi.dynamic.ReadResult<Outputs>> {
    if (!props?.endpoints) return { id, props };
    try {
      return { id, props: await refreshWith(pipelineEnv(props.endpoints, undefined))(id, props) };
    } catch (err) {
      throw hostError(err, undefined);
    }
  }

  /** AO processes cannot be destroyed: the process keeps running; it only leaves the stack. */
  async delete(id: string): Promise<void> {
    log(`process ${id} is no longer managed; AO processes cannot be destroyed, so it keeps running`);
  }
}

export class AoProcess extends pulumi.dynamic.Resource {
  declare readonly processId: pulumi.Output<string>;
  declare readonly codeSha256: pulumi.Output<string>;
  /** The program's hash without comments and layout (programHash.ts). */
  declare readonly programSha256: pulumi.Output<string | undefined>;
  /** The Eval's message ID (legacy network). */
  declare readonly evalMessageId: pulumi.Output<string | undefined>;
  /** The Eval's slot (AO mainnet). */
  declare readonly evalSlot: pulumi.Output<number | undefined>;
  declare readonly module: pulumi.Output<string>;
  declare readonly scheduler: pulumi.Output<string>;
  declare readonly owner: pulumi.Output<string>;
  declare readonly deployedAt: pulumi.Output<string>;
  declare readonly deploymentId: pulumi.Output<string>;
  declare readonly endpoints: pulumi.Output<Outputs["endpoints"]>;

  constructor(name: string, args: AoProcessArgs, opts?: pulumi.CustomResourceOptions) {
    if ((args.entry === undefined) === (args.code === undefined)) {
      throw new Error(`AoProcess ${name}: give exactly one of \`entry\` (a Lua file to bundle) or \`code\`.`);
    }
    const { entry, ...rest } = args;
    const code = entry !== undefined ? bundleLua(entry).code : args.code;
    super(
      new ProviderShim(),
      name,
      {
        ...rest,
        code,
        processId: undefined,
        codeSha256: undefined,
        programSha256: undefined,
        evalMessageId: undefined,
        evalSlot: undefined,
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

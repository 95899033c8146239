/**
 * create/update as pipelines of small steps, each built from injected effects (the aoconnect style:
 * `spawnProcessWith(env)` returns the step), so every step is tested without a network.
 *
 *   (mainnet: the authority is the node's address, read now; a pinned one must equal it: authority.ts)
 *   -> spawn -> wait until the units know the process
 *   -> Eval code + footer -> its result (what the mainnet push answered, else read by message ID or
 *      slot), fail on Error
 *   -> dry-run the validation action and compare the reported hash with the deployed one
 * The spawn and the Eval are each signed once (sendOnce.ts): a retry asks the network whether the signed
 * item was scheduled before it re-sends the same bytes, so nothing is spawned or evaluated twice.
 *
 * Any failure after the spawn becomes a DeployInitError carrying the process ID and the properties, so
 * the engine records the process and the next `pulumi up` resumes through `update`.
 */
import { type AoClient, type AoResult, describeRef, isNotFound, type MessageRef } from "./aoClient";
import { DEPLOYMENT_ID_TAG, PREVIEW_UNKNOWN, unitUrl } from "./aoValues";
import { checkAuthority } from "./authority";
import { namedError } from "./errors";
import { wrapWithFooter } from "./footer";
import { notYetError } from "./retry";
import { sendOnce } from "./sendOnce";
import type { Inputs, Outputs, Tag } from "./types";

export type RetryFn = <T>(step: string, endpoint: string, fn: (attempt: number) => Promise<T>) => Promise<T>;

export interface PipelineEnv {
  client: AoClient;
  retry: RetryFn;
  now: () => Date;
  log: (message: string) => void;
}

export interface DeployState {
  inputs: Inputs;
  deploymentId: string;
  owner: string;
  processId?: string;
  /** The process's authority: the pin, the node's address (a mainnet spawn), or what the state records. */
  authority?: string;
  evalMessage?: MessageRef;
  /** The Eval's result, when sending it answered one (a mainnet push computes before it answers). */
  evalResult?: AoResult;
}

/** How the state records the Eval: its message ID (legacy) or its slot (mainnet). */
export const evalFields = (ref: MessageRef | undefined): Pick<Outputs, "evalMessageId" | "evalSlot"> =>
  ref === undefined ? {} : "slot" in ref ? { evalSlot: ref.slot } : { evalMessageId: ref.id };

export { DEPLOYMENT_ID_TAG };

/** Eval error from the process: the Lua message, as the process reported it. */
export const luaEvalError = (processId: string, message: MessageRef, luaError: string) =>
  namedError(
    "LuaEvalError",
    `Eval of the code failed in process ${processId} (${describeRef(message)}): ${luaError}`,
    { processId, ...evalFields(message), luaError },
  );

export const codeMismatchError = (message: string) => namedError("CodeMismatchError", message);

/**
 * A failure after the process exists. The dynamic-provider host turns `id` + `properties` + `reasons`
 * into ErrorResourceInitFailed: the engine keeps the process in the state and calls `update` next time.
 */
export function deployInitError(id: string, properties: Record<string, unknown>, cause: Error) {
  return namedError(
    "DeployInitError",
    `${cause.message}\nProcess ${id} exists and is recorded in the state; run \`pulumi up\` again to resume ` +
      "(the engine calls update, which loads and verifies the code in that process).",
    { id, properties, reasons: [cause.message] },
  );
}

/** The spawn's tags besides the authority (the client sets it: a tag on legacy, a field on mainnet). */
export function spawnTags(inputs: Inputs, deploymentId: string): Tag[] {
  return [
    { name: "Name", value: inputs.name },
    { name: DEPLOYMENT_ID_TAG, value: deploymentId },
    ...inputs.tags,
  ];
}

/** The node's own address, as `GET <node>/~meta@1.0/info/address` answers it. */
const readNodeAddress = (env: PipelineEnv, node: string) =>
  env.retry("read the node's address", node, () => env.client.nodeAddress!());

/**
 * Mainnet, before a spawn: the new process's authority is the node's own address, read now; a pinned
 * one must equal it (authority.ts). Never an input: a rotated node key must not silently replace the
 * process; later deploys compare the recorded one (`checkRecordedAuthorityWith`).
 */
export const checkAuthorityWith =
  (env: PipelineEnv) =>
  async (state: DeployState): Promise<DeployState> => {
    const { endpoints, authority } = state.inputs;
    if (state.processId || endpoints.network !== "mainnet" || !env.client.nodeAddress) return state;
    const reported = await readNodeAddress(env, endpoints.node);
    const pinned = authority ? { pinned: authority } : {};
    return { ...state, authority: checkAuthority({ node: endpoints.node, ...pinned }, reported) };
  };

/**
 * Mainnet, in the diff of a later deploy (before anything is spawned or moved): the node's address must
 * be the pinned authority, else the one the state recorded for its process. Nothing to compare on a
 * first deploy (the create resolves it) or off mainnet.
 */
export const checkRecordedAuthorityWith =
  (env: PipelineEnv) =>
  async (olds: Partial<Outputs>, news: Inputs): Promise<void> => {
    const { endpoints } = news;
    if (endpoints.network !== "mainnet" || !env.client.nodeAddress || endpoints.node === PREVIEW_UNKNOWN)
      return;
    const recorded =
      olds.processId && olds.authority && olds.endpoints?.network === "mainnet"
        ? { recorded: { processId: olds.processId, authority: olds.authority } }
        : {};
    const pinned = news.authority && news.authority !== PREVIEW_UNKNOWN ? { pinned: news.authority } : {};
    if (!("recorded" in recorded) && !("pinned" in pinned)) return;
    checkAuthority(
      { node: endpoints.node, ...pinned, ...recorded },
      await readNodeAddress(env, endpoints.node),
    );
  };

/**
 * Spawns once (sendOnce.ts): a retried attempt asks whether the process with the signed item's ID
 * exists, else re-sends the same signed bytes.
 */
export const spawnProcessWith =
  (env: PipelineEnv) =>
  async (state: DeployState): Promise<DeployState> => {
    if (state.processId) return state; // adopting, or resuming a spawned process
    const { inputs, deploymentId } = state;
    const authority = state.authority ?? inputs.authority;
    const spawner = env.client.spawner({
      module: inputs.module,
      scheduler: inputs.scheduler,
      ...(authority ? { authority } : {}),
      tags: spawnTags(inputs, deploymentId),
    });
    const processId = await sendOnce(env.retry, "spawn", unitUrl(inputs.endpoints, "mu"), spawner, env.log);
    env.log(`spawned process ${processId} (deployment ${deploymentId})`);
    return { ...state, processId };
  };

/** Waits until the compute unit can evaluate the process (a dry-run succeeds). */
export const waitForProcessWith =
  (env: PipelineEnv) =>
  async (state: DeployState): Promise<DeployState> => {
    const processId = state.processId!;
    await env.retry("wait for the process", unitUrl(state.inputs.endpoints, "cu"), async () => {
      try {
        await env.client.dryrun({
          process: processId,
          tags: [{ name: "Action", value: "Ping" }],
          owner: state.owner,
        });
      } catch (err) {
        if (isNotFound(err))
          throw notYetError(`process ${processId} not found yet: ${(err as Error).message}`);
        throw err;
      }
    });
    return state;
  };

/** Sends the Eval of the code wrapped with the DeployedCode footer, signed once (sendOnce.ts). */
export const evalCodeWith =
  (env: PipelineEnv) =>
  async (state: DeployState): Promise<DeployState> => {
    const { inputs, deploymentId } = state;
    const data = wrapWithFooter(inputs.code, { sha256: inputs.codeSha256, deploymentId });
    const sender = env.client.sender({
      process: state.processId!,
      tags: [{ name: "Action", value: "Eval" }],
      data,
    });
    const { result, ...evalMessage } = await sendOnce(
      env.retry,
      "eval",
      unitUrl(inputs.endpoints, "mu"),
      sender,
      env.log,
    );
    env.log(`sent Eval (${describeRef(evalMessage)}) to process ${state.processId}`);
    return { ...state, evalMessage, ...(result ? { evalResult: result } : {}) };
  };

/** The Lua error text of a result, if it reports one. */
export function resultError(result: AoResult): string | undefined {
  const e = result.Error;
  if (e === undefined || e === null || e === "" || (typeof e === "object" && Object.keys(e).length === 0))
    return undefined;
  return typeof e === "string" ? e : JSON.stringify(e);
}

/**
 * The Eval's result (what the push answered, else read by its message ID or slot); an Error (syntax or
 * runtime) fails the deployment with the Lua message.
 */
export const readEvalResultWith =
  (env: PipelineEnv) =>
  async (state: DeployState): Promise<DeployState> => {
    const result =
      state.evalResult ??
      (await env.retry("eval result", unitUrl(state.inputs.endpoints, "cu"), () =>
        env.client.result({ process: state.processId!, message: state.evalMessage! }),
      ));
    const error = resultError(result);
    if (error) throw luaEvalError(state.processId!, state.evalMessage!, error);
    return state;
  };

/** The value of a tag in any message of a result. */
export function findTag(result: AoResult, name: string): string | undefined {
  for (const m of result.Messages ?? []) {
    const t = (m.Tags ?? []).find((tag) => tag.name === name);
    if (t) return t.value;
  }
  return undefined;
}

/** Dry-runs the validation action and returns the hash the process reports (undefined if none). */
export const liveCodeHashWith =
  (env: PipelineEnv) =>
  async (processId: string, inputs: Pick<Inputs, "endpoints" | "validation">, owner?: string) => {
    const result = await env.retry("dry-run validation", unitUrl(inputs.endpoints, "cu"), () =>
      env.client.dryrun({
        process: processId,
        tags: [{ name: "Action", value: inputs.validation.action }],
        // An empty JSON object: without data aoconnect sends "1234", which JSON-speaking handlers refuse.
        data: "{}",
        owner,
      }),
    );
    const error = resultError(result);
    if (error)
      throw codeMismatchError(`dry-run Action=${inputs.validation.action} on ${processId} failed: ${error}`);
    return findTag(result, inputs.validation.hashTag);
  };

/** Checks that the process runs the code that was deployed. */
export const verifyCodeWith =
  (env: PipelineEnv) =>
  async (state: DeployState): Promise<DeployState> => {
    const { inputs } = state;
    if (inputs.validation.skip) return state;
    const live = await liveCodeHashWith(env)(state.processId!, inputs, state.owner);
    if (live === undefined) {
      throw codeMismatchError(
        `process ${state.processId} did not reply to Action=${inputs.validation.action} with a ${inputs.validation.hashTag} tag: ` +
          `have it reply DeployedCode.Sha256 (see providers/footer.ts), or set validation.skip.`,
      );
    }
    if (live !== inputs.codeSha256) {
      throw codeMismatchError(
        `process ${state.processId} reports ${inputs.validation.hashTag}=${live}, but the deployed code is ${inputs.codeSha256}`,
      );
    }
    return state;
  };

/** The inputs as the state keeps them: without the code (the engine stores it with the inputs) or `__provider`. */
function recordedInputs(inputs: Inputs): Omit<Inputs, "code"> {
  const { code: _code, ...rest } = withoutProvider(inputs);
  return rest;
}

/** The state keeps the code's hash, not the code: the engine stores the inputs (with the code) anyway. */
export function toOutputs(state: DeployState, now: Date): Outputs {
  return {
    ...recordedInputs(state.inputs),
    ...authorityOf(state),
    processId: state.processId!,
    ...evalFields(state.evalMessage),
    owner: state.owner,
    deployedAt: now.toISOString(),
    deploymentId: state.deploymentId,
  };
}

/** The properties recorded with an init error: inputs, the process, and no deployedAt (incomplete). */
export function partialOutputs(state: DeployState, extra: Record<string, unknown>): Record<string, unknown> {
  return {
    ...extra,
    ...recordedInputs(state.inputs),
    ...authorityOf(state),
    processId: state.processId,
    owner: state.owner,
    deploymentId: state.deploymentId,
    ...evalFields(state.evalMessage),
  };
}

/** The authority the outputs record: the process's (resolved, recorded or pinned), when it has one. */
function authorityOf(state: DeployState): Pick<Outputs, "authority"> {
  const authority = state.authority ?? state.inputs.authority;
  return authority ? { authority } : {};
}

/** `o` without the serialized provider, which the host adds to every call's properties. */
export function withoutProvider<T extends object>(o: T): T {
  const { __provider: _, ...rest } = o as T & { __provider?: unknown };
  return rest as T;
}

/**
 * Outputs that state written by earlier releases holds and this one no longer writes: `code` (before
 * outputs left it out) and `adoptedProcessId` (release 0.1.0, when the adoption input was `processId`;
 * the input `adoptProcessId` now travels into the outputs itself).
 */
const LEGACY_OUTPUTS = ["code", "adoptedProcessId"];

/** `olds` without the outputs earlier releases wrote and this one does not. */
export function currentOutputs(olds: Outputs): Outputs {
  const kept: Record<string, unknown> = { ...olds };
  for (const k of LEGACY_OUTPUTS) delete kept[k];
  return kept as unknown as Outputs;
}

/**
 * The update that sends nothing to AO: the state records a completed deployment of this very code, so
 * only endpoints, validation or the strategy changed. Undefined when the code must be (re)loaded.
 */
export function settledUpdate(id: string, olds: Outputs, news: Inputs): Outputs | undefined {
  if (!olds.deployedAt || olds.codeSha256 !== news.codeSha256) return undefined;
  const authority = news.authority ?? olds.authority;
  return {
    ...currentOutputs(olds),
    ...recordedInputs(news),
    ...(authority ? { authority } : {}),
    processId: id,
  };
}

/** Where create starts: the adopted process if the inputs name one, else a spawn. */
export function createStart(inputs: Inputs, owner: string, deploymentId: string): DeployState {
  return { inputs: withoutProvider(inputs), deploymentId, owner, processId: inputs.adoptProcessId };
}

/** Where update starts: the process in the state, with its owner and deployment ID when it has them. */
export function updateStart(
  id: string,
  olds: Outputs,
  news: Inputs,
  walletOwner: string,
  deploymentId: string,
): DeployState {
  const authority = news.authority ?? olds.authority;
  return {
    inputs: withoutProvider(news),
    deploymentId: olds.deploymentId || deploymentId,
    owner: olds.owner || walletOwner,
    processId: id,
    ...(authority ? { authority } : {}),
  };
}

/**
 * Refresh: dry-runs the validation action (no wallet) and records drift of the live code hash. State
 * with validation skipped is returned as it is.
 */
export const refreshWith =
  (env: PipelineEnv) =>
  async (id: string, props: Outputs): Promise<Outputs> => {
    if (props.validation?.skip) return props;
    const live = await liveCodeHashWith(env)(id, props, props.owner);
    if (live === undefined || live === props.codeSha256) return props;
    env.log(`process ${id} reports code ${live}, but the state records ${props.codeSha256}: drift`);
    return { ...props, codeSha256: live };
  };

/**
 * The whole deployment: (mainnet) the authority check, spawn (unless the state has a process) -> wait -> Eval -> result -> verify.
 * `extra` (e.g. `__provider`) is carried into an init error's properties.
 */
export const deployWith =
  (env: PipelineEnv) =>
  async (start: DeployState, extra: Record<string, unknown> = {}): Promise<Outputs> => {
    let state = await spawnProcessWith(env)(await checkAuthorityWith(env)(start));
    try {
      for (const step of [waitForProcessWith, evalCodeWith, readEvalResultWith, verifyCodeWith]) {
        state = await step(env)(state);
      }
    } catch (err) {
      throw deployInitError(state.processId!, partialOutputs(state, extra), err as Error);
    }
    return toOutputs(state, env.now());
  };

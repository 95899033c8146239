/**
 * `pulumi up` on a local file state, without the Pulumi CLI: the engine's part, played here.
 *
 * The program runs in its own process (program.ts); each dynamic resource it registers goes to
 * @pulumi/pulumi's real dynamic-provider host (scripts/lib/dynamicHost.ts) in the engine's order:
 * Check (against the old inputs), Diff (against the state), then nothing, Update, or a replacement
 * (Check again with no old inputs, Create, and the old resource deleted at the end). Other resources
 * (the GitHub provider and secret) are recorded in the state and compared by their inputs; nothing is
 * sent to GitHub. A run is a preview first (check and diff only: no wallet, no network writes), whose
 * plan is printed; then, when it changes something, the update.
 *
 * The state is written after every step, and before the risky ones: a create is journaled as a pending
 * operation, and the process ID is journaled as soon as the provider reports its spawn, so that a run
 * killed before the Eval finished leaves a resource with an init error, which the next run finishes in
 * the same process (an update). A lock keeps a second run of the same stack out.
 */
import { join } from "node:path";
import { type DiffResult, type DynamicHost, DynamicHostError, startDynamicHost } from "../dynamicHost";
import { acquireLock } from "./lock";
import {
  finalDeletes,
  hasChanges,
  inputsDiff,
  liveResource,
  pendingDeletes,
  plan,
  type Registration,
  type Step,
  stepFor,
} from "./plan";
import { formatOutputs, formatPlan, formatStepDone, formatSummary } from "./printer";
import { type ProgramProcess, startProgram } from "./program";
import { knownOnly, type RegisterRequest } from "./programHost";
import {
  type Props,
  type ResourceState,
  readState,
  redactSecrets,
  type StackState,
  stateFileOf,
  writeState,
} from "./state";

const DYNAMIC = "pulumi-nodejs:dynamic";
const isDynamic = (type: string) => type.startsWith(DYNAMIC);

export interface UpOptions {
  repoRoot: string;
  /** The program's directory (default `<repoRoot>/infra`). */
  programDir?: string;
  project: string;
  stack: string;
  /** The stack configuration, namespaced keys (`aoRegistry:module`) to strings. */
  config: Record<string, string>;
  /** Variables for the program's process. */
  programEnv: Record<string, string | undefined>;
  /** Environment of the dynamic-provider host (the wallet: AO_WALLET_FILE). */
  hostEnv: Record<string, string | undefined>;
  /** Directory of the state file `<stack>.json` and its lock. */
  stateDir: string;
  /** Print the plan only: Check and Diff, no Create/Update/Delete. */
  preview: boolean;
  verbose: boolean;
  /** Human-readable lines (the CLI sends them to stderr). */
  log(line: string): void;
}

export interface UpResult {
  outputs: Record<string, unknown>;
  steps: Step[];
  stateFile: string;
}

/** An error the engine reports as it is: one line per problem, no stack trace needed. */
export class EngineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EngineError";
  }
}

export const lockFileOf = (stateDir: string, stack: string) => join(stateDir, `${stack}.lock`);
export const urnOf = (stack: string, project: string, type: string, name: string) =>
  `urn:pulumi:${stack}::${project}::${type}::${name}`;

/** What the AoProcess provider logs right after the spawn (providers/pipeline.ts). */
const SPAWNED = /AoProcess: spawned process (\S+) \(deployment (\S+)\)/;

/** `info: [runtime] message` as pulumi.log prints it in a host with no engine connection. */
const RUNTIME_LOG = /^(info|warning|error): \[runtime\] (.*)$/;

function withoutCode(inputs: Props): Props {
  const { code: _code, __provider: _p, ...rest } = inputs;
  return rest;
}

/** A custom resource's state record, as the engine keeps it for a registration. */
const customResource = (
  urn: string,
  req: Pick<RegisterRequest, "resourceType" | "name">,
  fields: Pick<ResourceState, "id" | "inputs" | "outputs" | "initErrors">,
): ResourceState => ({ urn, type: req.resourceType, name: req.name, custom: true, ...fields });

export async function up(opts: UpOptions): Promise<UpResult> {
  const stateFile = stateFileOf(opts.stateDir, opts.stack);
  const lock = opts.preview ? undefined : acquireLock(lockFileOf(opts.stateDir, opts.stack), opts.log);
  let host: DynamicHost | undefined;
  let updateProgram: ProgramProcess | undefined;
  try {
    const state = readState(stateFile, opts.project, opts.stack);
    const start: StackState = structuredClone(state);
    const save = () => {
      if (!opts.preview) writeState(stateFile, state);
    };
    for (const op of state.pendingOperations) {
      opts.log(
        `note: an earlier run was interrupted while creating ${op.urn.split("::").pop()} (started ${op.startedAt}) before any process was reported; it is created now`,
      );
    }
    if (state.pendingOperations.length) {
      state.pendingOperations = [];
      save();
    }

    const creating = new Map<string, { req: RegisterRequest; inputs: Props; replacing?: ResourceState }>();
    const hostStarted = startDynamicHost({
      cwd: opts.repoRoot,
      project: opts.project,
      baseEnv: opts.hostEnv,
      onLog: (line, stream) => {
        const m = SPAWNED.exec(line);
        if (m) journalSpawn(m[1]!, m[2]!);
        const r = RUNTIME_LOG.exec(line);
        if (opts.verbose) opts.log(`    [provider] ${line}`);
        else if (r && stream === "stdout") opts.log(`    ${r[1] === "info" ? "" : `${r[1]}: `}${r[2]}`);
      },
    }).then(async (h) => {
      host = h;
      await h.configure(opts.config);
      return h;
    });
    // Never left unhandled while the program starts; awaited where it is needed.
    hostStarted.catch(() => {});

    /** The spawn is the point of no return: journal the process before the Eval is even sent. */
    const journalSpawn = (processId: string, deploymentId: string) => {
      if (opts.preview || creating.size !== 1) return;
      const [urn, c] = [...creating][0]!;
      if (c.replacing) c.replacing.delete = true;
      upsertLive(
        customResource(urn, c.req, {
          id: processId,
          inputs: c.inputs,
          outputs: { ...withoutCode(c.inputs), processId, deploymentId },
          initErrors: [`interrupted after spawning ${processId} (deployment ${deploymentId})`],
        }),
      );
      save();
    };

    const upsertLive = (r: ResourceState) => {
      const i = state.resources.findIndex((x) => x.urn === r.urn && !x.delete);
      if (i >= 0) state.resources[i] = r;
      else state.resources.push(r);
    };
    const removeResource = (r: ResourceState) => {
      state.resources = state.resources.filter(
        (x) => !(x.urn === r.urn && x.id === r.id && x.delete === r.delete),
      );
    };

    const checked = async (h: DynamicHost, urn: string, name: string, olds: Props, news: Props) => {
      const c = await h.check(urn, olds, news);
      if (c.failures.length) {
        throw new EngineError(
          c.failures
            .map((f) => `${name}: check failed: ${f.property ? `${f.property}: ` : ""}${f.reason}`)
            .join("\n"),
        );
      }
      return c.inputs;
    };

    /** Check and Diff one registration against the state: what both passes begin with. */
    const decide = async (req: RegisterRequest) => {
      const urn = urnOf(opts.stack, opts.project, req.resourceType, req.name);
      const old = liveResource(state, urn);
      const reg: Registration & { inputs: Props } = {
        urn,
        type: req.resourceType,
        name: req.name,
        inputs: redactSecrets(req.inputs) as Props,
      };
      if (!isDynamic(req.resourceType)) {
        if (old) reg.diff = inputsDiff(old.inputs, reg.inputs);
        return { urn, old, reg, step: stepFor(old, reg, reg.inputs) };
      }
      const h = await hostStarted;
      reg.inputs = await checked(h, urn, req.name, old?.inputs ?? {}, req.inputs);
      if (old) {
        const d: DiffResult = await h.diff(urn, old.id, old.outputs, reg.inputs, old.inputs);
        reg.diff = d;
      }
      const step = stepFor(old, reg, reg.inputs);
      // A replacement is checked again with no old inputs before it is created (step_generator.go).
      if (step.op === "replace") reg.inputs = await checked(h, urn, req.name, {}, req.inputs);
      return { urn, old, reg, step };
    };

    // Pass 1: the preview. The update's process starts as soon as there is a change to make.
    const onProgramLog = (l: string) => programLog(opts, l);
    const warmUpdate = () => {
      if (!opts.preview) updateProgram ??= startProgram(opts.repoRoot, onProgramLog);
    };
    if (state.resources.length === 0 || state.resources.some((r) => r.delete)) warmUpdate();
    const registrations: (Registration & { inputs: Props })[] = [];
    const previewRun = await startProgram(opts.repoRoot, onProgramLog).run({
      programDir: opts.programDir ?? join(opts.repoRoot, "infra"),
      project: opts.project,
      stack: opts.stack,
      dryRun: true,
      config: opts.config,
      env: opts.programEnv,
      async onRegister(req) {
        const { old, reg, step } = await decide(req);
        registrations.push(reg);
        if (step.op !== "same") warmUpdate();
        const id = old?.id ?? "";
        if (step.op === "same") return { id, state: old!.outputs };
        if (step.op === "update") return { id, state: knownOnly({ ...old!.outputs, ...reg.inputs }) };
        // Created or replaced: what the provider computes stays unknown in a preview.
        return {
          id: "",
          state: knownOnly(isDynamic(req.resourceType) ? withoutCode(reg.inputs) : reg.inputs),
        };
      },
    });
    const steps = plan(state, registrations);
    opts.log(
      formatPlan(
        steps,
        `${opts.preview ? "Previewing" : "Plan for"} stack ${opts.stack} (local engine, state ${stateFile}):`,
      ),
    );
    if (opts.preview) return { outputs: previewRun.outputs, steps, stateFile };
    if (!hasChanges(steps)) {
      if (JSON.stringify(state.outputs) !== JSON.stringify(previewRun.outputs)) {
        state.outputs = previewRun.outputs;
        save();
      }
      opts.log(formatOutputs(previewRun.outputs));
      return { outputs: previewRun.outputs, steps, stateFile };
    }

    // Pass 2: the update.
    const h = await hostStarted;
    const done: Step[] = [];
    const timed = async <T>(step: Step, fn: () => Promise<T>, extra?: (r: T) => string): Promise<T> => {
      const t0 = performance.now();
      const r = await fn();
      done.push(step);
      opts.log(formatStepDone(step, (performance.now() - t0) / 1000, extra?.(r)));
      return r;
    };
    const deleteResource = async (r: ResourceState) => {
      if (isDynamic(r.type)) await h.delete(r.urn, r.id, r.outputs, r.inputs);
      removeResource(r);
      save();
    };

    for (const step of pendingDeletes(state)) {
      const r = state.resources.find((x) => x.urn === step.urn && x.delete)!;
      await timed(step, () => deleteResource(r));
    }

    const create = async (req: RegisterRequest, urn: string, inputs: Props, replacing?: ResourceState) => {
      state.pendingOperations.push({ urn, type: "creating", startedAt: new Date().toISOString() });
      save();
      creating.set(urn, { req, inputs, replacing });
      // A created resource, even one with init errors, is live: the one it replaces is deleted last.
      const created = (id: string, outputs: Props, initErrors?: string[]) => {
        if (replacing) replacing.delete = true;
        upsertLive(customResource(urn, req, { id, inputs, outputs, initErrors }));
      };
      try {
        const r = await h.create(urn, inputs);
        created(r.id, r.properties);
        return { id: r.id, state: r.properties };
      } catch (e) {
        const f = e instanceof DynamicHostError ? e.initFailed : undefined;
        if (f) created(f.id, f.properties, f.reasons);
        throw e;
      } finally {
        creating.delete(urn);
        state.pendingOperations = state.pendingOperations.filter((p) => p.urn !== urn);
        save();
      }
    };

    const replaced: string[] = [];
    const program = updateProgram ?? startProgram(opts.repoRoot, onProgramLog);
    updateProgram = undefined;
    const run = await program.run({
      programDir: opts.programDir ?? join(opts.repoRoot, "infra"),
      project: opts.project,
      stack: opts.stack,
      dryRun: false,
      config: opts.config,
      env: opts.programEnv,
      async onRegister(req) {
        const { urn, old, reg, step } = await decide(req);
        if (!isDynamic(req.resourceType)) {
          // Recorded, not sent anywhere: the state keeps its inputs (secrets as digests) as its outputs.
          const id = old?.id ?? `${req.name}-local`;
          if (step.op !== "same") {
            await timed(step, async () => {
              upsertLive(customResource(urn, req, { id, inputs: reg.inputs, outputs: reg.inputs }));
              save();
            });
          }
          return { id, state: req.inputs };
        }
        switch (step.op) {
          case "same":
            upsertLive({ ...old!, inputs: reg.inputs });
            save();
            return { id: old!.id, state: old!.outputs };
          case "update":
            return timed(step, async () => {
              try {
                const r = await h.update(urn, old!.id, old!.outputs, reg.inputs, old!.inputs);
                upsertLive({ ...old!, inputs: reg.inputs, outputs: r.properties, initErrors: undefined });
                return { id: old!.id, state: r.properties };
              } catch (e) {
                // An update's init error keeps the properties the provider reported.
                const f = e instanceof DynamicHostError ? e.initFailed : undefined;
                if (f)
                  upsertLive({ ...old!, inputs: reg.inputs, outputs: f.properties, initErrors: f.reasons });
                throw e;
              } finally {
                save();
              }
            });
          case "create":
            return timed(
              step,
              () => create(req, urn, reg.inputs),
              (r) => r.id,
            );
          case "replace":
            if (step.deleteBeforeReplace) await deleteResource(old!);
            else replaced.push(urn);
            return timed(
              step,
              () => create(req, urn, reg.inputs, step.deleteBeforeReplace ? undefined : old),
              (r) => r.id,
            );
          default:
            throw new Error(`unexpected step ${step.op} for ${urn}`);
        }
      },
    });

    const registered = new Set(registrations.map((r) => r.urn));
    for (const step of finalDeletes(start, registered, [])) {
      const r = liveResource(state, step.urn);
      if (r) await timed(step, () => deleteResource(r));
    }
    for (const urn of replaced) {
      for (const r of state.resources.filter((x) => x.urn === urn && x.delete)) {
        await timed({ op: "delete-replaced", urn, type: r.type, name: r.name }, () => deleteResource(r));
      }
    }
    state.outputs = run.outputs;
    save();
    opts.log(formatSummary(done, true));
    opts.log(formatOutputs(run.outputs));
    return { outputs: run.outputs, steps, stateFile };
  } finally {
    // A process started for an update that is not needed (no change after all, or a failure).
    (updateProgram as ProgramProcess | undefined)?.kill();
    lock?.release();
    await (host as DynamicHost | undefined)?.stop();
  }
}

function programLog(opts: Pick<UpOptions, "verbose" | "log">, line: string): void {
  const r = RUNTIME_LOG.exec(line);
  if (opts.verbose) opts.log(`    [program] ${line}`);
  else if (r && r[1] !== "info") opts.log(`    ${r[1]}: ${r[2]}`);
}

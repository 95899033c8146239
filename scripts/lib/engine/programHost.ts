/**
 * The language host's part: runs the Pulumi program (infra/) once, in its own Node process, as
 * `pulumi up` runs it in a plugin. Every resource it registers is sent to the parent (the engine,
 * runner.ts) over IPC, which answers with the ID and state to resolve it with. Then the program's
 * exports are settled and sent back as the stack outputs.
 *
 * A separate process because the program can run only once per process (module state, registered
 * resources), and the engine runs it twice: a preview, then the update. Closure serialization also
 * needs a plain Node module loader (pulumi/pulumi#10480), which this process is.
 */
import type * as pulumiType from "@pulumi/pulumi";
import { PREVIEW_UNKNOWN } from "../../../providers/aoValues";

export interface ProgramStart {
  type: "start";
  programDir: string;
  project: string;
  stack: string;
  dryRun: boolean;
  config: Record<string, string>;
  /** Variables set for the program (e.g. GITHUB_TOKEN presence); undefined removes one. */
  env: Record<string, string | undefined>;
}

export interface RegisterRequest {
  type: "register";
  seq: number;
  resourceType: string;
  name: string;
  custom: boolean;
  inputs: Record<string, unknown>;
}

export type RegisterReply =
  | { type: "registered"; seq: number; id: string; state: Record<string, unknown> }
  | { type: "failed"; seq: number; message: string };

export type ProgramMessage =
  | RegisterRequest
  | { type: "done"; outputs: Record<string, unknown>; unknown: string[] }
  | { type: "error"; message: string; stack?: string };

/** The engine's marker for a value not known during preview, as its gRPC carries it to providers. */
export const UNKNOWN = PREVIEW_UNKNOWN;

/** Inputs with the SDK's unknowns (during preview: outputs of resources not created yet) as UNKNOWN. */
export function withUnknownMarker(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withUnknownMarker);
  if (v && typeof v === "object") {
    if ((v as { __pulumiUnknown?: unknown }).__pulumiUnknown === true) return UNKNOWN;
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, withUnknownMarker(x)]));
  }
  return v;
}

/** A state without UNKNOWN values: what a preview returns, so the program keeps them unknown. */
export function knownOnly(state: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(state).filter(([, v]) => v !== UNKNOWN));
}

function send(m: ProgramMessage, then: () => void = () => {}): void {
  process.send?.(m, then);
}

async function run(start: ProgramStart): Promise<void> {
  for (const [k, v] of Object.entries(start.env)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  const pulumi = require("@pulumi/pulumi") as typeof pulumiType;
  pulumi.runtime.setAllConfig(start.config, []);
  let seq = 0;
  const waiting = new Map<number, (r: RegisterReply) => void>();
  process.on("message", (m: RegisterReply) => waiting.get(m.seq)?.(m));
  const failures: unknown[] = [];
  await pulumi.runtime.setMocks(
    {
      async newResource(args) {
        const n = ++seq;
        const reply = await new Promise<RegisterReply>((resolve) => {
          waiting.set(n, resolve);
          send({
            type: "register",
            seq: n,
            resourceType: args.type,
            name: args.name,
            custom: args.custom ?? true,
            inputs: withUnknownMarker(args.inputs) as Record<string, unknown>,
          });
        });
        waiting.delete(n);
        if (reply.type === "failed") {
          // Reported by the engine already; the program only has to stop.
          const e = new Error(reply.message);
          failures.push(e);
          throw e;
        }
        return { id: reply.id, state: reply.state };
      },
      call: (args) => args.inputs,
    },
    start.project,
    start.stack,
    start.dryRun,
  );
  const program = require(start.programDir) as Record<string, unknown>;
  const outputs: Record<string, unknown> = {};
  const unknown: string[] = [];
  for (const [k, v] of Object.entries(program)) {
    if (!pulumi.Output.isInstance(v)) {
      if (v !== undefined) outputs[k] = v;
      continue;
    }
    const out = v as pulumiType.Output<unknown> & { isKnown: Promise<boolean> };
    try {
      if (!(await out.isKnown)) {
        unknown.push(k);
        continue;
      }
      const value = await new Promise((r) => out.apply((x) => r(x)));
      if (value !== undefined) outputs[k] = value;
    } catch (e) {
      failures.push(e);
    }
  }
  const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };
  await settings.waitForRPCs().catch((e: unknown) => failures.push(e));
  if (failures.length) throw failures[0];
  await new Promise<void>((r) => send({ type: "done", outputs, unknown }, r));
}

if (require.main === module) {
  // Load the SDK while the engine decides whether this run is needed (see startProgram).
  require("@pulumi/pulumi");
  process.once("message", (m: ProgramStart) => {
    // Exit once the last message is out: the runtime may still hold handles of failed registrations.
    run(m).then(
      () => process.exit(0),
      (e: unknown) => {
        const err = e instanceof Error ? e : new Error(String(e));
        send({ type: "error", message: err.message, stack: err.stack }, () => process.exit(1));
      },
    );
  });
}

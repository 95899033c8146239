/**
 * The local stack state: what `pulumi up` keeps in a file backend's checkpoint, as far as this engine
 * needs it. One versioned JSON file per stack, written atomically (temporary file, fsync, rename), so
 * that a run killed at any instant leaves either the previous state or the next, never a torn one.
 *
 * Like Pulumi's checkpoint: resources in registration order (a resource comes after those it depends
 * on, so deletes run in reverse), each with its inputs, outputs, ID, init errors (a resource that
 * exists but did not finish initializing: the next run updates it) and a `delete` mark (replaced,
 * deleted last; a failure leaves it pending-delete for the next run). `pendingOperations` journals a
 * create in flight, so that an interrupted run is noticed and, once the process ID is known, finished.
 * Secret values are never stored: only a digest that tells a change (see `redactSecrets`).
 */
import { createHash } from "node:crypto";
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { SECRET_SIG, SECRET_SIG_KEY } from "../dynamicHost";

export const STATE_VERSION = 1;

export type Props = Record<string, unknown>;

/** The state file of `stack` in a state directory (its lock is `<stack>.lock` beside it). */
export const stateFileOf = (stateDir: string, stack: string) => join(stateDir, `${stack}.json`);

export interface ResourceState {
  urn: string;
  type: string;
  name: string;
  /** Whether a provider manages it (false for component resources). */
  custom: boolean;
  id: string;
  inputs: Props;
  outputs: Props;
  /** The resource exists but its last create or update failed: the next run updates it. */
  initErrors?: string[];
  /** Replaced (or removed from the program) and not deleted yet: deleted at the end of a run. */
  delete?: true;
}

export interface PendingOperation {
  urn: string;
  type: "creating";
  startedAt: string;
}

export interface StackState {
  version: typeof STATE_VERSION;
  project: string;
  stack: string;
  updatedAt: string;
  resources: ResourceState[];
  pendingOperations: PendingOperation[];
  /** The program's exports after the last successful run (what `pulumi stack output --json` prints). */
  outputs: Props;
}

export const emptyState = (project: string, stack: string): StackState => ({
  version: STATE_VERSION,
  project,
  stack,
  updatedAt: new Date(0).toISOString(),
  resources: [],
  pendingOperations: [],
  outputs: {},
});

export class StateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StateError";
  }
}

/** Parses and checks a state file's text. Throws a StateError naming the file and the fix. */
export function parseState(text: string, file: string): StackState {
  let data: Partial<StackState>;
  try {
    data = JSON.parse(text) as Partial<StackState>;
  } catch (e) {
    throw new StateError(
      `${file} is not valid JSON (${(e as Error).message}); restore it from a backup, or move it away to start a new stack state`,
    );
  }
  if (data?.version !== STATE_VERSION) {
    throw new StateError(
      `${file} has state version ${JSON.stringify(data?.version)}; this engine reads version ${STATE_VERSION}. Use the matching version of this repository`,
    );
  }
  if (!Array.isArray(data.resources) || typeof data.stack !== "string" || typeof data.project !== "string") {
    throw new StateError(`${file} is not a stack state (resources, stack or project missing)`);
  }
  return { pendingOperations: [], outputs: {}, ...data } as StackState;
}

/** The state in `file`, or an empty one when there is none yet. */
export function readState(file: string, project: string, stack: string): StackState {
  if (!existsSync(file)) return emptyState(project, stack);
  const state = parseState(readFileSync(file, "utf8"), file);
  if (state.stack !== stack || state.project !== project) {
    throw new StateError(
      `${file} holds stack ${state.project}/${state.stack}, not ${project}/${stack}; give this stack its own --state directory`,
    );
  }
  return state;
}

/** Writes the whole state atomically and durably. */
export function writeState(file: string, state: StackState): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, "w", 0o600);
  try {
    writeSync(fd, `${JSON.stringify({ ...state, updatedAt: new Date().toISOString() }, null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

const isSecret = (v: unknown): v is { value: unknown } =>
  typeof v === "object" && v !== null && (v as Props)[SECRET_SIG_KEY] === SECRET_SIG;

/**
 * Replaces every secret (`pulumi.secret(...)` as the program sends it) with a digest: a changed secret
 * still shows as a change, and the state never holds the value.
 */
export function redactSecrets(v: unknown): unknown {
  if (isSecret(v)) {
    const digest = createHash("sha256")
      .update(JSON.stringify(v.value ?? null))
      .digest("hex");
    return { secret: `sha256:${digest}` };
  }
  if (Array.isArray(v)) return v.map(redactSecrets);
  if (v && typeof v === "object") {
    const out: Props = {};
    for (const [k, x] of Object.entries(v as Props)) if (x !== undefined) out[k] = redactSecrets(x);
    return out;
  }
  return v;
}

/**
 * The engine's decisions, as pure functions (pulumi/pulumi pkg/resource/deploy/step_generator.go):
 *
 * - a resource the state does not hold (or holds only as pending-delete) is created;
 * - otherwise the provider's Diff decides: replace when it names properties that force a replacement,
 *   update when it reports changes, nothing when it reports none; a Diff that cannot tell ("unknown")
 *   falls back to comparing the old and new inputs, as the engine does for legacy providers;
 * - a resource with init errors (it exists, its last create or update failed) is updated even when the
 *   Diff reports no change: the update finishes it in place;
 * - pending deletes left by an earlier run are deleted first; replaced resources are deleted last
 *   (create-before-delete), and resources the program no longer declares after that, in reverse order
 *   of the state (dependents before what they depend on).
 */
import type { Props, ResourceState, StackState } from "./state";

export type StepOp = "same" | "create" | "update" | "replace" | "delete" | "delete-replaced";

export interface DiffLike {
  changes: "unknown" | "none" | "some";
  replaces: string[];
  diffs: string[];
  deleteBeforeReplace: boolean;
}

export interface Step {
  op: StepOp;
  urn: string;
  type: string;
  name: string;
  /** Properties that changed (update, replace). */
  diffs?: string[];
  /** Properties that force the replacement. */
  replaces?: string[];
  /** Why, when the op alone does not say it (e.g. "resume after an init error"). */
  note?: string;
  deleteBeforeReplace?: boolean;
}

/** One resource the program registered, with what check and diff said about it. */
export interface Registration {
  urn: string;
  type: string;
  name: string;
  /** The provider's Diff against the state; undefined when there is no old resource. */
  diff?: DiffLike;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** Top-level properties whose values differ between two input sets, sorted. */
export function changedKeys(olds: Props, news: Props): string[] {
  const keys = new Set([...Object.keys(olds), ...Object.keys(news)]);
  return [...keys].filter((k) => k !== "__provider" && !same(olds[k], news[k])).sort();
}

/** A Diff made by comparing inputs, for resources without a provider here (recorded, not sent). */
export function inputsDiff(olds: Props, news: Props): DiffLike {
  const diffs = changedKeys(olds, news);
  return { changes: diffs.length ? "some" : "none", replaces: [], diffs, deleteBeforeReplace: false };
}

/** The live (not pending-delete) resource of the state with this URN. */
export const liveResource = (state: StackState, urn: string): ResourceState | undefined =>
  state.resources.find((r) => r.urn === urn && !r.delete);

/** The step for one registered resource, given its old state and the provider's Diff. */
export function stepFor(old: ResourceState | undefined, reg: Registration, newInputs?: Props): Step {
  const base = { urn: reg.urn, type: reg.type, name: reg.name };
  if (!old) return { ...base, op: "create" };
  let diff = reg.diff ?? { changes: "unknown", replaces: [], diffs: [], deleteBeforeReplace: false };
  if (diff.changes === "unknown") {
    diff = newInputs ? inputsDiff(old.inputs, newInputs) : { ...diff, changes: "some" };
  }
  if (diff.replaces.length > 0) {
    return {
      ...base,
      op: "replace",
      replaces: diff.replaces,
      diffs: [
        ...new Set([...(newInputs ? changedKeys(old.inputs, newInputs) : diff.diffs), ...diff.replaces]),
      ].sort(),
      deleteBeforeReplace: diff.deleteBeforeReplace,
    };
  }
  const resume = old.initErrors?.length ? { note: "resume after an init error" } : {};
  // The host's Diff names replacements only; the changed properties come from the inputs, as the
  // engine computes its detailed diff when a provider gives none.
  const diffs = diff.diffs.length || !newInputs ? diff.diffs : changedKeys(old.inputs, newInputs);
  if (diff.changes === "some") return { ...base, op: "update", diffs, ...resume };
  if (old.initErrors?.length) return { ...base, op: "update", diffs, ...resume };
  return { ...base, op: "same" };
}

const deleteStep = (r: ResourceState, op: "delete" | "delete-replaced", note?: string): Step => ({
  op,
  urn: r.urn,
  type: r.type,
  name: r.name,
  ...(note ? { note } : {}),
});

/** Deletes an earlier run left pending (replaced resources whose delete did not happen): run first. */
export function pendingDeletes(state: StackState): Step[] {
  return state.resources
    .filter((r) => r.delete)
    .reverse()
    .map((r) => deleteStep(r, "delete-replaced", "pending delete from an earlier run"));
}

/** Deletes at the end: replaced resources, then those the program no longer declares (reverse order). */
export function finalDeletes(state: StackState, registered: ReadonlySet<string>, replaced: string[]): Step[] {
  const steps: Step[] = [];
  for (const urn of replaced) {
    const old = liveResource(state, urn);
    if (old) steps.push(deleteStep(old, "delete-replaced"));
  }
  for (const r of [...state.resources].reverse()) {
    if (!r.delete && !registered.has(r.urn)) steps.push(deleteStep(r, "delete"));
  }
  return steps;
}

/** The whole plan, in execution order: what `--preview` prints and `up` then carries out. */
export function plan(state: StackState, registrations: (Registration & { inputs?: Props })[]): Step[] {
  const steps = registrations.map((reg) => stepFor(liveResource(state, reg.urn), reg, reg.inputs));
  const replaced = steps.filter((s) => s.op === "replace" && !s.deleteBeforeReplace).map((s) => s.urn);
  return [
    ...pendingDeletes(state),
    ...steps,
    ...finalDeletes(state, new Set(registrations.map((r) => r.urn)), replaced),
  ];
}

export type PlanCounts = Partial<Record<StepOp, number>>;

export function countSteps(steps: Step[]): PlanCounts {
  const counts: PlanCounts = {};
  for (const s of steps) counts[s.op] = (counts[s.op] ?? 0) + 1;
  return counts;
}

/** Whether carrying out the plan changes anything. */
export const hasChanges = (steps: Step[]) => steps.some((s) => s.op !== "same");

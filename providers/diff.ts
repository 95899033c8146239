/**
 * The pure diff of the AoProcess resource: old state (`Outputs`) against new checked `Inputs`.
 *
 * - Replacement (a new process; the old one keeps running, AO processes cannot be destroyed):
 *   code under `replace`, module, scheduler, authority, name, tags, the network (`endpoints.network`:
 *   a process lives on one network; state without it is legacy), or an `adoptProcessId` that differs
 *   from the process the state holds. `replaces` names each property, which preview shows.
 * - In-place update: code under `eval` (or when the adopted process stays the same: replacing it would
 *   give the same process), code whose program is the same (only comments or layout changed:
 *   `programSha256`, programHash.ts; state without it compares the text alone), the endpoints' URLs on the same network, validation options, the upgrade strategy, `stateTransfer`.
 * - `__provider` and outputs are ignored. `deleteBeforeReplace` is false: the new process comes first.
 * - Removing `adoptProcessId` after an adoption keeps the adopted process (it is now managed). The
 *   comparison is with the state's `processId`, so state from release 0.1.0 (input `processId`, output
 *   `adoptedProcessId`) diffs the same way.
 * - Resuming: state recorded by an init error (a process ID but no `deployedAt`: the create failed after
 *   the spawn) takes a code change as an in-place update under either strategy, so that the engine's
 *   next `update` finishes the pipeline in that process instead of replacing it with a second one.
 */
import type * as pulumi from "@pulumi/pulumi";
import { sameProgram } from "./programHash";
import type { Endpoints, Inputs, Outputs } from "./types";

const networkOf = (e: Endpoints) => e.network ?? "legacy";

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** Outputs that never change in an in-place update; preview shows them as known. */
const STABLE_ON_UPDATE = [
  "processId",
  "owner",
  "module",
  "scheduler",
  "authority",
  "name",
  "tags",
  "deploymentId",
];

/** The code's text changed but not its program (comments, whitespace): loaded in place. Pure. */
export function sameProgramOnly(olds: Partial<Outputs>, news: Inputs): boolean {
  return olds.codeSha256 !== news.codeSha256 && sameProgram(olds.programSha256, news.programSha256);
}

export function diff(olds: Partial<Outputs>, news: Inputs): pulumi.dynamic.DiffResult {
  const replaces: string[] = [];
  const updates: string[] = [];

  const adoptsOther = news.adoptProcessId !== undefined && news.adoptProcessId !== olds.processId;
  if (adoptsOther) replaces.push("adoptProcessId");
  const keepsAdopted = news.adoptProcessId !== undefined && news.adoptProcessId === olds.processId;
  const resuming = Boolean(olds.processId) && !olds.deployedAt;

  if (olds.codeSha256 !== news.codeSha256) {
    const inPlace = news.upgrade === "eval" || keepsAdopted || resuming || sameProgramOnly(olds, news);
    (inPlace ? updates : replaces).push("code");
  }
  for (const key of ["module", "scheduler", "authority", "name"] as const) {
    if ((olds[key] || undefined) !== (news[key] || undefined)) replaces.push(key);
  }
  if (!same(olds.tags ?? [], news.tags ?? [])) replaces.push("tags");
  if (olds.endpoints && networkOf(olds.endpoints) !== networkOf(news.endpoints))
    replaces.push("endpoints.network");
  for (const key of ["endpoints", "validation", "upgrade"] as const) {
    if (!same(olds[key], news[key])) updates.push(key);
  }
  // State written before the option existed is a process without it.
  if ((olds.stateTransfer ?? false) !== (news.stateTransfer ?? false)) updates.push("stateTransfer");

  if (replaces.length) return { changes: true, replaces, deleteBeforeReplace: false };
  if (updates.length)
    return { changes: true, replaces: [], stables: STABLE_ON_UPDATE, deleteBeforeReplace: false };
  return { changes: false };
}

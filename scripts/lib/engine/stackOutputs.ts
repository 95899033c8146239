/**
 * `pulumi stack output --json` for a stack deployed by the local engine: the outputs its state
 * recorded after the last successful run, as the same JSON document.
 */
import { existsSync } from "node:fs";
import { readState, stateFileOf } from "./state";

/** The outputs JSON of `stack` in `stateDir`, or undefined when the local engine never deployed it. */
export function localStackOutputs(stateDir: string, project: string, stack: string): string | undefined {
  const file = stateFileOf(stateDir, stack);
  if (!existsSync(file)) return undefined;
  return JSON.stringify(readState(file, project, stack).outputs, null, 2);
}

import type { AosModule } from "./modules";
import type { AosEnv, AosMessage, AosResult } from "./vm";

/**
 * The worker's first message: the compiled module (shared, not copied) and the memory to restore. The
 * worker is started ahead, before it knows which process it will run.
 */
export interface VmStart {
  module: AosModule;
  snapshot?: Uint8Array;
  /** Run at the lowest CPU priority from the start (restore included): work that must yield to messages. */
  background?: boolean;
}

export type VmRequest =
  | { op: "evaluate" | "dryRun"; id: number; msg: AosMessage; env: AosEnv }
  | { op: "warm"; id: number }
  | { op: "snapshot"; id: number };

/** Id 0 answers the start: `ready`, or the error that stopped it. */
export type VmReply =
  | { id: number; result: AosResult }
  | { id: number; snapshot: Uint8Array }
  | { id: number; ready: true; thread?: string }
  /** An evaluation begins: the thread's CPU time (ms) then, from which its deadline counts. */
  | { id: number; started: number }
  | { id: number; error: string };

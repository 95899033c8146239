/**
 * Before a process whose state must follow is replaced (AoProcess `diff`, so before anything is
 * spawned): proves that its state can move. The old process must speak the state-transfer protocol and
 * be owned by the deploying wallet (checked when the wallet is at hand: a preview may have none).
 * An unreachable network is not a refusal here (a preview works offline); the move checks again before
 * it freezes anything. Logs what will move, which is what the preview shows.
 */

import { isError } from "./errors";
import type { PipelineEnv } from "./pipeline";
import { moveRefused, ownerProblem } from "./stateMove";
import { transferClient } from "./stateTransfer";
import type { Outputs } from "./types";

export const replacementReadinessWith =
  (env: Pick<PipelineEnv, "client" | "retry">, log: (message: string) => void) =>
  async (olds: Partial<Outputs>, wallet: string | undefined): Promise<void> => {
    const id = olds.processId;
    if (!id || !olds.endpoints) return;
    let info: Awaited<ReturnType<ReturnType<typeof transferClient>["info"]>>;
    try {
      info = await transferClient(env, olds.endpoints, id, undefined).info();
    } catch (err) {
      if (isError(err, "NoTransferProtocol"))
        throw moveRefused(
          `${(err as Error).message}. Its data cannot follow a replacement, so nothing was spawned. Load code ` +
            `that speaks the protocol into ${id} first, keeping its data: deploy once with the upgrade strategy ` +
            `"eval" (pulumi config set aoRegistry:upgrade eval), then set it back to "replace".`,
        );
      log(
        `could not read the state of ${id} (${(err as Error).message}); the move checks it again before freezing anything`,
      );
      return;
    }
    if (wallet) {
      const problem = ownerProblem(info, id, wallet);
      if (problem) throw moveRefused(`${problem}. Nothing was spawned.`);
    } else {
      log(`no wallet in this run: that it owns ${id} is checked when the deploy runs`);
    }
    if (info.status === "sealed") {
      log(`${id} was never opened: nothing to move out of it`);
      return;
    }
    // The size is said once, by the active process's diff, which moves it.
    log(`replacing ${id}: it speaks the state-transfer protocol, so its state can follow the replacement`);
  };

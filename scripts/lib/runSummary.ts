/**
 * What a deploy's last lines say about the process the stack names: after a replacement, the previous
 * process beside the new one (what a rollback adopts); after Ctrl-C, whether the registry was left frozen
 * (writes refused until a run finishes the move) and what to run next.
 */
import { createAoClient } from "../../providers/aoClient";
import type { Endpoints } from "../../providers/types";

type Outputs = Record<string, unknown>;

const pidOf = (o: Outputs): string | undefined =>
  typeof o.processId === "string" && o.processId ? o.processId : undefined;

/** After a successful run: the line naming the previous process when the stack changed process. Pure. */
export function replacementSummary(before: Outputs, after: Outputs): string | undefined {
  const was = pidOf(before);
  const now = pidOf(after);
  if (!was || !now || was === now) return undefined;
  return [
    `The stack's registry process is now ${now}; it was ${was}.`,
    `To go back: npm run deploy:dev -- --adopt=${was} (the state moves back with what was written since).`,
  ].join("\n");
}

/** What a State-Info reply says of a process's transfer status, as far as Ctrl-C needs it. */
export interface TransferStatus {
  status?: string;
  successor?: string | null;
}

/** The Ctrl-C report, from the previous process's transfer status (undefined: unknown). Pure. */
export function interruptedText(previous: string | undefined, status: TransferStatus | undefined): string {
  const again =
    "Run `npm run deploy:dev` again: it finds the processes this run made and finishes where it stopped.";
  if (!previous) return `Interrupted before the stack had a process. ${again}`;
  if (status?.status === "frozen" && status.successor)
    return [
      `Interrupted during a move: the registry ${previous} is frozen for ${status.successor} and refuses writes (E_MOVED) until the move finishes; reads still work.`,
      again,
    ].join("\n");
  if (status?.status === "open")
    return `Interrupted: the registry ${previous} is open and takes writes as before. ${again}`;
  return [
    `Interrupted: could not read the state of the registry ${previous}; if a move had started it refuses writes until a run finishes it.`,
    again,
  ].join("\n");
}

/** Reads the previous process's transfer status (bounded: Ctrl-C must not hang), then the report. */
export async function interruptedMessage(previous: Outputs, timeoutMs = 5_000): Promise<string> {
  const pid = pidOf(previous);
  let status: TransferStatus | undefined;
  if (pid && previous.endpoints && typeof previous.endpoints === "object") {
    const client = createAoClient(previous.endpoints as Endpoints, undefined);
    const read = client
      .dryrun({ process: pid, tags: [{ name: "Action", value: "State-Info" }], data: "{}" })
      .then((r) => {
        const data = JSON.parse(String(r.Messages?.[0]?.Data ?? "{}")) as {
          stateTransfer?: TransferStatus;
        };
        return data.stateTransfer;
      });
    status = await Promise.race([
      read.catch(() => undefined),
      new Promise<undefined>((r) => setTimeout(() => r(undefined), timeoutMs).unref()),
    ]);
  }
  return interruptedText(pid, status);
}

/**
 * The authority of a process on AO mainnet: the address aos trusts to deliver messages for other
 * processes, which must be the node that pushes them. The aos CLI 2.0.16 and ao-deploy 0.11 spawn with
 * the node's own address, read at spawn time from `GET <node>/~meta@1.0/info/address` (permaweb/aos
 * src/services/mainnet.js resolveAuthority), not the scheduler's.
 *
 * Here it is resolved the same way when the process is first created, recorded in the state (and the
 * stack outputs), and compared with the node's answer on every later deploy. A stack may pin it
 * (`aoRegistry:authority`): the pin is compared the same way. A different answer stops the deploy before
 * anything is spawned or moved, naming both addresses and the command that accepts the new one.
 * Pure: the node's answer is read by the caller.
 */
import { namedError } from "./errors";

/** What the authority is compared with: the stack's pin, else what the state recorded. */
export interface AuthorityRecord {
  /** The node's URL, for the messages. */
  node: string;
  /** `aoRegistry:authority`, when the stack pins it. */
  pinned?: string;
  /** The process and the authority its state records (spawned with it), when there is one. */
  recorded?: { processId: string; authority: string };
}

const CONFIG = "aoRegistry:authority";

/** The node reports another address than the stack pins. */
export const authorityMismatch = (node: string, reported: string, pinned: string, consequence: string) =>
  namedError(
    "AuthorityMismatch",
    `node ${node} reports address ${reported}, but the stack pins authority ${pinned}: the node's key changed or the ` +
      `URL points at another node. Nothing was spawned or moved. Read it (GET ${node}/~meta@1.0/info/address) and ` +
      `pin it: pulumi config set ${CONFIG} ${reported} (${consequence}), or correct aoRegistry:nodeUrl.`,
    { node, reported, pinned },
  );

/** The node reports another address than the one its process was spawned with (no pin). */
export const authorityChanged = (node: string, reported: string, processId: string, recorded: string) =>
  namedError(
    "AuthorityChanged",
    `node ${node} reports address ${reported}, but process ${processId} was spawned with authority ${recorded} ` +
      `(resolved from the node when it was created, recorded in the stack). Nothing was spawned or moved. If the ` +
      `node's key changed, accept the new address: pulumi config set ${CONFIG} ${reported} (this replaces the ` +
      `process: a new one trusting ${reported} is spawned and the state moved into it; ${processId} keeps ` +
      `${recorded}). If aoRegistry:nodeUrl points at another node, correct it instead.`,
    { node, reported, recorded, processId },
  );

/**
 * The authority a process on this node takes (a new one) or keeps (an existing one), given what the node
 * reports; throws AuthorityMismatch or AuthorityChanged when they differ.
 */
export function checkAuthority(record: AuthorityRecord, reported: string): string {
  const { node, pinned, recorded } = record;
  if (pinned !== undefined) {
    if (reported === pinned) return pinned;
    const consequence = !recorded
      ? "a new process is spawned with it"
      : recorded.authority === reported
        ? `process ${recorded.processId} already has it: nothing is replaced`
        : `this replaces process ${recorded.processId}, which has ${recorded.authority}`;
    throw authorityMismatch(node, reported, pinned, consequence);
  }
  if (recorded && recorded.authority !== reported)
    throw authorityChanged(node, reported, recorded.processId, recorded.authority);
  return reported;
}

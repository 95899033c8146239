/**
 * The mainnet front door: HyperBEAM's routes, as the unmodified `@permaweb/aoconnect` 0.0.98 uses them in
 * mainnet mode, served by the same messenger, scheduler and compute unit as the legacy routes (one
 * network, two front doors: a process spawned through either is messaged and read through the other).
 * A process's slot is its scheduler nonce: 0 is the spawn, and slots survive restarts with the log.
 */

import type { IncomingMessage } from "node:http";
import type { ComputeUnit } from "./computeUnit";
import { dataForProcess, type Item, RejectedItemError, tagValue, verifyItem } from "./dataItem";
import { HYPERBEAM_ROUTES, type HyperbeamRoute } from "./hyperbeamPaths";
import type { Messenger } from "./messenger";
import { HttpError, peerOf, readBody } from "./requestInput";
import { dryRunBody, MESSAGE_BODY_LIMIT } from "./requestSchemas";
import type { Scheduler } from "./scheduler";

export interface NodeUnits {
  messenger: Messenger;
  scheduler: Scheduler;
  cu: ComputeUnit;
}

/** What to answer: JSON for an object, text for a string. */
export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** aoconnect sends every mainnet request as a signed ANS-104 item with these headers (ao-core-libs). */
const ITEM_CONTENT_TYPE = "application/ans104";
const ITEM_CODEC = "ans104@1.0";

/**
 * The signed item a request carries. Read first (bounded, so a 413 reaches the client), then its headers
 * are checked: a node decodes the body by them, and this network speaks only ANS-104.
 */
async function readItem(req: IncomingMessage, route: string): Promise<Item> {
  const raw = await readBody(req, MESSAGE_BODY_LIMIT, route);
  const type = req.headers["content-type"]?.split(";")[0]?.trim().toLowerCase();
  if (type !== ITEM_CONTENT_TYPE) {
    throw new HttpError(
      415,
      `Content-Type ${JSON.stringify(type ?? null)} for ${route}: send a signed ANS-104 item as ${ITEM_CONTENT_TYPE} (with codec-device: ${ITEM_CODEC})`,
    );
  }
  const codec = req.headers["codec-device"];
  if (codec !== undefined && codec !== ITEM_CODEC) {
    throw new HttpError(
      415,
      `codec-device ${JSON.stringify(codec)} for ${route}: this network decodes ${ITEM_CODEC} only`,
    );
  }
  return verifyItem(raw);
}

/** An item sent to a process's path must not name another process. */
function checkTarget(item: Item, process: string, route: string): void {
  if (item.target && item.target !== process) {
    throw new RejectedItemError(
      `the item's target ${item.target} is not the process ${process} in the path of ${route}: target the process you address`,
    );
  }
}

function checkType(item: Item, want: "Process" | "Message", route: string, instead: string): void {
  const type = tagValue(item.tags, "Type");
  if (type !== want) {
    throw new RejectedItemError(
      `Type ${JSON.stringify(type ?? null)} sent to ${route}, which takes Type=${want}: ${instead}`,
    );
  }
}

/** Answers one HyperBEAM request (its route parsed by `parseHyperbeamPath`). */
export async function serveHyperbeam(
  route: HyperbeamRoute,
  req: IncomingMessage,
  u: NodeUnits,
): Promise<Reply> {
  const at = HYPERBEAM_ROUTES[route.kind];
  switch (route.kind) {
    case "address":
      // The network's one wallet is the scheduler (and the authority): aoconnect spawns with it as both.
      return { status: 200, body: u.scheduler.address };
    case "spawn": {
      const item = await readItem(req, at);
      checkType(item, "Process", at, `send messages to ${HYPERBEAM_ROUTES.message}`);
      const s = await u.messenger.accept(item);
      // aoconnect reads the process ID from this header.
      return { status: 200, body: { process: s.process, slot: s.nonce }, headers: { process: s.process } };
    }
    case "message": {
      const item = await readItem(req, at);
      checkType(item, "Message", at, `spawn with ${HYPERBEAM_ROUTES.spawn}`);
      if (!item.target) {
        throw new RejectedItemError(
          `message has no target: set the data item's target to the process ${route.process} in the path`,
        );
      }
      checkTarget(item, route.process, at);
      const s = await u.messenger.accept(item);
      return { status: 200, body: { slot: s.nonce, id: item.id, process: s.process } };
    }
    case "result": {
      checkTarget(await readItem(req, at), route.process, at);
      const raw = await u.cu.resultAt(route.process, route.slot);
      return { status: 200, body: { process: route.process, slot: route.slot, raw } };
    }
    case "currentSlot": {
      checkTarget(await readItem(req, at), route.process, at);
      return { status: 200, body: String(u.scheduler.currentSlot(route.process)) };
    }
    case "dryRun": {
      // Admitted (or refused) per connecting peer and process before the item is read, as the legacy one.
      const raw = await u.cu.dryRun(route.process, peerOf(req), async () => {
        const item = await readItem(req, at);
        checkTarget(item, route.process, at);
        // The legacy dry-run's message, from the path's tags and the signed item's data and signer. No
        // ID or signature (salted, new at each signing): equal requests share the compute unit's cache.
        // Data that is not UTF-8: none, as HyperBEAM's dry-run hands it (dev_delegated_compute:do_dryrun).
        const data = dataForProcess(item, { mainnet: true, isProcessItem: false });
        return dryRunBody.parse({
          Owner: item.owner,
          Target: route.process,
          ...(data === undefined ? {} : { Data: data }),
          Tags: route.tags,
          ...(item.anchor ? { Anchor: item.anchor } : {}),
        });
      });
      return { status: 200, body: { process: route.process, raw } };
    }
  }
}

/**
 * The mainnet front door: HyperBEAM's routes, as the unmodified `@permaweb/aoconnect` uses them in mainnet
 * mode (0.0.98, and 0.0.93 which ao-deploy 0.11 ships), served by the same messenger, scheduler and compute
 * unit as the legacy routes (one network, two front doors: a process spawned through either is messaged
 * and read through the other). A process's slot is its scheduler nonce: 0 is the spawn, and slots
 * survive restarts with the log.
 *
 * What the real node answers, read from permaweb/HyperBEAM (edge, 2025-06; newer files where named):
 * - the node's address is its own key's (`~meta@1.0/info/address`), not its scheduler's;
 * - a push schedules the message and computes it before answering: dev_push.erl do_push merges the
 *   slot into the result of `compute/results` (result-depth 1 by default), whose `raw` is the compute
 *   unit's JSON (dev_delegated_compute.erl handle_relay_response sets `results/raw`);
 * - `compute=<slot>` answers the process computed to that slot, its results under `results`;
 *   `compute/results=<slot>` answers those results themselves (hence aoconnect <= 0.0.97 reads
 *   `results.raw` and 0.0.98 `raw`);
 * - a spawn naming another scheduler is forwarded to it (dev_scheduler.erl find_server ->
 *   find_remote_scheduler, post_remote_schedule); one naming the node's own address is scheduled there;
 * - a re-sent signed message is scheduled again (dev_scheduler_server.erl do_assign);
 * - `GET /~scheduler@1.0/schedule?target=<pid>` lists assignments between slots `from` and `to`, as
 *   the legacy scheduler's JSON when asked for `application/aos-2` (dev_scheduler get_schedule,
 *   dev_scheduler_formats assignments_to_aos2).
 * A node that only schedules (a second door, `computes: false`) answers pushes with the slot alone and
 * compute requests 404, as one third-party note says push.forward.computer does (unconfirmed).
 */

import type { IncomingMessage } from "node:http";
import { wallClock } from "./clock";
import type { ComputeUnit } from "./computeUnit";
import { dataForProcess, type Item, RejectedItemError, tagValue, verifyItem } from "./dataItem";
import { HYPERBEAM_ROUTES, type HyperbeamRoute } from "./hyperbeamPaths";
import type { Messenger } from "./messenger";
import { HttpError, peerOf, percentDecode, readBody, readQuery } from "./requestInput";
import { dryRunBody, MESSAGE_BODY_LIMIT, queries } from "./requestSchemas";
import type { Scheduled, Scheduler } from "./scheduler";

export interface NodeUnits {
  messenger: Messenger;
  scheduler: Scheduler;
  cu: ComputeUnit;
  /** The node's own address: what `/~meta@1.0/info/address` answers. */
  nodeAddress: string;
  /** False for a door that schedules only: compute requests are 404, a push answers its slot alone. */
  computes: boolean;
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

/** At most this many assignments per schedule page (dev_scheduler.erl MAX_ASSIGNMENT_QUERY_LEN). */
export const SCHEDULE_PAGE = 1000;

/** The format the schedule route answers in: the legacy scheduler's JSON. */
const AOS2 = "application/aos-2";

/** A message as HyperBEAM's JSON interface writes it (dev_json_iface.erl message_to_json_struct). */
function jsonStruct(item: Item) {
  return {
    Id: item.id,
    Anchor: item.anchor,
    Owner: item.owner,
    From: tagValue(item.tags, "From-Process") ?? item.owner,
    Tags: item.tags,
    Target: item.target,
    Data: item.data,
    Signature: item.signature,
  };
}

/** One edge of an `application/aos-2` schedule: the message and its assignment (inferred field names). */
function scheduleEdge(s: Scheduled, scheduler: string) {
  return {
    cursor: String(s.nonce),
    node: {
      message: jsonStruct(s.item),
      assignment: {
        Id: s.assignmentId,
        Owner: scheduler,
        Tags: [
          { name: "Data-Protocol", value: "ao" },
          { name: "Variant", value: "ao.N.1" },
          { name: "Type", value: "Assignment" },
          { name: "Process", value: s.process },
          { name: "Epoch", value: String(s.epoch) },
          { name: "Slot", value: String(s.nonce) },
          { name: "Block-Height", value: String(s.blockHeight) },
          { name: "Timestamp", value: String(s.timestamp) },
          { name: "Message", value: s.item.id },
        ],
      },
    },
  };
}

const computesNothing = (route: string) =>
  new HttpError(
    404,
    `this node schedules only: it computes nothing (${route}); ask the compute node (stack config aoRegistry:computeNodeUrl)`,
  );

/** Answers one HyperBEAM request (its route parsed by `parseHyperbeamPath`, its query in `query`). */
export async function serveHyperbeam(
  route: HyperbeamRoute,
  req: IncomingMessage,
  u: NodeUnits,
  /** The request's raw query string (readQuery parses it strictly). */
  query = "",
): Promise<Reply> {
  const at = HYPERBEAM_ROUTES[route.kind];
  if (route.kind !== "schedule") readQuery(query, at, queries.none);
  switch (route.kind) {
    case "address":
      // The node's own key: on AO mainnet it is neither the scheduler's nor the legacy messenger's.
      return { status: 200, body: u.nodeAddress };
    case "spawn": {
      const item = await readItem(req, at);
      checkType(item, "Process", at, `send messages to ${HYPERBEAM_ROUTES.message}`);
      const s = await u.messenger.accept(item, "mainnet");
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
      const s = await u.messenger.accept(item, "mainnet");
      const scheduled = { slot: s.nonce, id: item.id, process: s.process };
      if (!u.computes) return { status: 200, body: scheduled };
      return { status: 200, body: { ...scheduled, raw: await u.cu.resultAt(s.process, s.nonce) } };
    }
    case "result": {
      checkTarget(await readItem(req, at), route.process, at);
      if (!u.computes) throw computesNothing(at);
      const raw = await u.cu.resultAt(route.process, route.slot);
      return { status: 200, body: { process: route.process, slot: route.slot, raw } };
    }
    case "compute": {
      checkTarget(await readItem(req, at), route.process, at);
      if (!u.computes) throw computesNothing(at);
      const raw = await u.cu.resultAt(route.process, route.slot);
      return { status: 200, body: { process: route.process, "at-slot": route.slot, results: { raw } } };
    }
    case "currentSlot": {
      checkTarget(await readItem(req, at), route.process, at);
      return { status: 200, body: String(u.scheduler.currentSlot(route.process)) };
    }
    case "dryRun": {
      if (!u.computes) throw computesNothing(at);
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
      // 0.0.98 reads `raw`, 0.0.93 `results.raw`: which one the real node's dry-run answers is not
      // confirmed here, so both are given.
      return { status: 200, body: { process: route.process, raw, results: { raw } } };
    }
    case "schedule":
      return { status: 200, body: schedulePage(u.scheduler, query, req.headers.accept) };
  }
}

/**
 * `GET /~scheduler@1.0/schedule`: a page of a process's assignments, `from` and `to` slots inclusive. The
 * format is the `accept` key, from the query or the Accept header (HyperBEAM reads both as the request's
 * `accept`; it percent-decodes the value: dev_scheduler.erl generate_local_schedule).
 */
function schedulePage(scheduler: Scheduler, query: string, acceptHeader: string | undefined) {
  const at = HYPERBEAM_ROUTES.schedule;
  const q = readQuery(query, at, queries.schedule);
  const accept = q.accept ?? acceptHeader;
  if (accept === undefined || percentDecode(accept, "accept", at) !== AOS2)
    throw new HttpError(
      406,
      `accept ${JSON.stringify(accept ?? null)} for ${at}: this network answers the schedule as ${AOS2} only (the real node's default is an HTTP-signed bundle): ask with accept=${AOS2}`,
    );
  const durable = scheduler.currentSlot(q.target);
  const messages = scheduler.processes.get(q.target)!.messages;
  const from = q.from ?? 0;
  const to = Math.min(q.to ?? durable, durable);
  const rows = messages.slice(from, Math.max(from, to + 1));
  const page = rows.slice(0, SCHEDULE_PAGE);
  return {
    page_info: {
      process: q.target,
      has_next_page: rows.length > page.length,
      timestamp: String(wallClock()),
      "block-height": String(messages[to]?.blockHeight ?? 0),
    },
    edges: page.map((m) => scheduleEdge(m, scheduler.address)),
  };
}

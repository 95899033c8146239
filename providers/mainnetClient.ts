/**
 * AO mainnet (a HyperBEAM node) through the unmodified @permaweb/aoconnect 0.0.98 in mainnet mode.
 *
 * Every call is aoconnect's own signed request (`connect({ MODE: 'mainnet', URL, signer }).request`)
 * with the fields its spawn/message/result/dryrun send (src/client/ao-core.js), because those wrappers
 * turn every HTTP failure into a bare "Error sending message": without the status and the node's words
 * a retry could not tell a node whose compute unit is still starting (400) from a refusal, and an
 * error could not name the node and the slot. What differs from aoconnect's wrappers, on purpose:
 * - the spawn and every message are signed once (sendOnce.ts) and the spawn carries the stack's
 *   authority, never a default;
 * - a retried message first asks the node's scheduler route, by the signed item's ID, whether it was
 *   scheduled (GET /~scheduler@1.0/schedule from the slot after the one current before the send:
 *   HyperBEAM's scheduler would schedule the same bytes again);
 * - a push answers the computed result beside the slot (dev_push.erl do_push): it is used, not asked for
 *   again;
 * - results and dry-runs go to the compute node (`endpoints.computeNode`, by default the push node);
 * - reads that need no owner are signed by the run's key (signing.ts), so they need no wallet;
 * - pushes and compute requests (results, dry-runs, the current slot) are bounded in time; a node that
 *   answers compute requests 400 or not at all is "not ready": retried within the step's bound, then named.
 * Tags fold into fields as in aoconnect (a repeated name keeps the last: `check` refuses repeats).
 */
import type { AoClient, AoResult, MessageSender, SpawnArgs } from "./aoApi";
import { type AoSigner, aoconnect } from "./aoconnect";
import type { MainnetEndpoints } from "./aoValues";
import { httpStatusError, namedError, noWalletError } from "./errors";
import { onceSigner, readKey, signerFor } from "./signing";
import type { Tag } from "./types";
import { type Jwk, walletAddress } from "./wallet";

/** How long a push or a compute request may take before the node counts as stalled. */
export const COMPUTE_TIMEOUT_MS = 30_000;

/** How many schedule pages (of up to 1000 slots) a lookup reads before it gives up. */
const LOOKUP_PAGES = 20;

/** A node that cannot answer yet (its compute unit starting, a process stalled at a slot): retryable. */
export const nodeNotReady = (message: string, status?: number) =>
  namedError("NodeNotReady", message, status !== undefined ? { status } : {});

// The fields aoconnect 0.0.98 adds to every mainnet request (ao-core.js: baseParams, httpParams, jsonParams).
const BASE = { method: "POST", "signing-format": "ans104", "accept-bundle": "true" };
const HTTP = { ...BASE, "accept-codec": "httpsig@1.0" };
const JSON_REPLY = { ...BASE, "require-codec": "application/json" };
const aoFields = (type: "Process" | "Message") => ({ Type: type, "Data-Protocol": "ao", Variant: "ao.N.1" });
const fold = (tags: Tag[]) => Object.fromEntries(tags.map((t) => [t.name, t.value]));
/** aoconnect sends "1984" when a call has no data. */
const dataOf = (data: string | undefined) => data ?? "1984";

/** A result as aoconnect normalizes it: the node's `raw`. */
function normalized(reply: unknown): AoResult {
  const body = (reply ?? {}) as { raw?: Record<string, unknown> };
  const raw = body.raw ?? {};
  return { Output: {}, Messages: [], Spawns: [], ...raw } as AoResult;
}

/** The format of the schedule route's answer: the legacy scheduler's JSON (dev_scheduler_formats). */
const AOS2 = "application/aos-2";
interface SchedulePage {
  page_info?: { has_next_page?: unknown };
  edges?: { cursor?: unknown; node?: { message?: { Id?: unknown } } }[];
}

/**
 * What a request does at the node: a write (a spawn) is answered at once; a push is scheduled and then
 * computed before the answer; a compute request may wait for the node's compute unit, which answers 400
 * while it starts.
 */
type Kind = "write" | "push" | "compute";

export interface MainnetClientOptions {
  computeTimeoutMs?: number;
}

export function createMainnetClient(
  endpoints: MainnetEndpoints,
  wallet: Jwk | undefined,
  options: MainnetClientOptions = {},
): AoClient {
  /** Where spawns and messages are pushed, the schedule read and the node's address asked. */
  const node = endpoints.node;
  /** Where results and dry-runs are computed. */
  const computeNode = endpoints.computeNode ?? node;
  const timeoutMs = options.computeTimeoutMs ?? COMPUTE_TIMEOUT_MS;
  const ao = aoconnect();
  // aoconnect's mainnet mode takes the signer at connect (one given per call is ignored).
  const requestAs = (signer: AoSigner, url: string) =>
    ao.connect({ MODE: "mainnet", URL: url, signer }).request;
  const theWallet = () => {
    if (!wallet) throw noWalletError();
    return wallet;
  };
  const walletRequest = (url: string) => requestAs(signerFor(theWallet(), ao.createSigner), url);
  const readRequest = (url: string) => requestAs(signerFor(readKey(), ao.createSigner), url);

  /**
   * aoconnect wraps a failed fetch in its own error (code REQUEST_HTTP_FAILED, the cause inside): said
   * again as the connection failure it is, so that the retry helper knows it.
   */
  const post = (
    url: string,
    request: (fields: Record<string, unknown>) => Promise<Response>,
    fields: Record<string, unknown>,
    what: string,
  ) =>
    request(fields).catch((err: { code?: unknown; cause?: unknown; message?: unknown }) => {
      if (err?.code !== "REQUEST_HTTP_FAILED") throw err;
      const cause = err.cause as { message?: unknown; cause?: { code?: unknown } } | undefined;
      throw Object.assign(
        new Error(
          `node ${url} could not be reached for ${what}: fetch failed (${String(cause?.message ?? err.message)})`,
        ),
        { cause },
      );
    });

  /** Bounds a request in time: past the bound the node counts as stalled (retryable). */
  async function bounded<T>(url: string, what: string, pending: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const stalled = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(nodeNotReady(`node ${url} did not answer ${what} within ${timeoutMs / 1000} s`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([pending, stalled]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** One request; a failure names the node and what was asked, with the node's answer. */
  async function call(
    url: string,
    request: (fields: Record<string, unknown>) => Promise<Response>,
    fields: Record<string, unknown>,
    what: string,
    kind: Kind,
  ): Promise<Response> {
    const sent = post(url, request, fields, what);
    const res = kind === "write" ? await sent : await bounded(url, what, sent);
    if (res.ok) return res;
    const text = (await res.text().catch(() => "")).slice(0, 2000);
    const said = `node ${url} answered HTTP ${res.status} to ${what}: ${text}`;
    if (res.status === 404) throw httpStatusError(404, `not found: ${said}`);
    // A node answers 400 to compute requests while its embedded compute unit starts.
    if (res.status === 400 && kind === "compute")
      throw nodeNotReady(`${said} (its compute unit may still be starting)`, 400);
    throw httpStatusError(res.status, said);
  }

  /** The latest slot of a process's schedule, as the push node's scheduler reports it. */
  async function currentSlot(process: string): Promise<number> {
    const fields = { path: `/${process}/slot/current`, ...HTTP };
    const what = `the current slot of process ${process}`;
    const text = (await (await call(node, readRequest(node), fields, what, "compute")).text()).trim();
    const slot = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(slot))
      throw new Error(`node ${node} answered ${what} with ${JSON.stringify(text.slice(0, 100))}, not a slot`);
    return slot;
  }

  async function processExists(process: string): Promise<boolean> {
    try {
      await currentSlot(process);
      return true;
    } catch (err) {
      if ((err as { status?: number }).status === 404) return false;
      throw err;
    }
  }

  /**
   * The slot at which the message with this ID was scheduled, from slot `from` on, or undefined: the
   * scheduler's schedule route (permaweb/HyperBEAM src/dev_scheduler.erl get_schedule: `target`, `from`,
   * `to`; `accept` application/aos-2 answers the legacy scheduler's JSON, its edges' `node.message.Id`
   * the message's ID: dev_scheduler_formats.erl assignments_to_aos2, dev_json_iface.erl
   * message_to_json_struct). Unsigned, as the node's own tests ask it.
   */
  async function scheduledSlot(process: string, id: string, from: number): Promise<number | undefined> {
    let at = from;
    for (let page = 0; page < LOOKUP_PAGES; page++) {
      const url = `${node}/~scheduler@1.0/schedule?target=${process}&from=${at}&accept=${encodeURIComponent(AOS2)}`;
      const res = await bounded(
        node,
        `the schedule of process ${process}`,
        fetch(url, { headers: { Accept: AOS2 } }),
      );
      const text = await res.text();
      if (!res.ok)
        throw httpStatusError(
          res.status,
          `node ${node} answered HTTP ${res.status} to GET ${url}: ${text.slice(0, 500)}`,
        );
      let body: SchedulePage;
      try {
        body = JSON.parse(text) as SchedulePage;
      } catch {
        throw new Error(`node ${node} answered GET ${url} with something other than ${AOS2} JSON`);
      }
      const edges = body.edges ?? [];
      const hit = edges.find((e) => e.node?.message?.Id === id);
      if (hit) return Number(hit.cursor);
      if (body.page_info?.has_next_page !== true || edges.length === 0) return undefined;
      at = Number(edges.at(-1)!.cursor) + 1;
    }
    throw new Error(
      `could not tell whether message ${id} was scheduled on process ${process}: more than ${LOOKUP_PAGES} pages of its schedule since slot ${from}`,
    );
  }

  const client: AoClient = {
    spawner({ module, scheduler, authority, tags, data }: SpawnArgs) {
      if (!authority)
        throw new Error(
          "a mainnet spawn needs the authority (the node's address): aoconnect would default it to the scheduler",
        );
      const once = onceSigner(theWallet());
      const request = requestAs(once.signer, node);
      return {
        signedId: once.signedId,
        async lookup() {
          // sendOnce asks only once the item is signed: its ID is the process's.
          const id = once.signedId()!;
          return (await processExists(id)) ? id : undefined;
        },
        async send() {
          const fields = {
            path: "/push",
            device: "process@1.0",
            "scheduler-device": "scheduler@1.0",
            "push-device": "push@1.0",
            "execution-device": "genesis-wasm@1.0",
            Authority: authority,
            Scheduler: scheduler,
            Module: module,
            data: dataOf(data),
            ...fold(tags),
            ...aoFields("Process"),
            ...HTTP,
          };
          const res = await call(node, request, fields, "the spawn (POST /push)", "write");
          const id = res.headers.get("process");
          if (!id) throw new Error(`node ${node} accepted the spawn but answered no process header`);
          return id;
        },
      };
    },
    sender({ process, tags, data }): MessageSender {
      const once = onceSigner(theWallet());
      const request = requestAs(once.signer, node);
      // The first slot the message can take: read before it is signed and sent, so that a lookup after a
      // lost reply reads the schedule from there.
      let from: number | undefined;
      return {
        signedId: once.signedId,
        async lookup() {
          // sendOnce asks only once the item is signed, which follows reading `from`.
          const slot = await scheduledSlot(process, once.signedId()!, from!);
          return slot === undefined ? undefined : { slot };
        },
        async send() {
          from ??= (await currentSlot(process)) + 1;
          const fields = {
            path: `/${process}~process@1.0/push`,
            target: process,
            data: dataOf(data),
            ...fold(tags),
            ...aoFields("Message"),
            ...JSON_REPLY,
          };
          const res = await call(node, request, fields, `a message to process ${process}`, "push");
          const body = (await res.json()) as { slot?: unknown; raw?: unknown };
          const slot = Number(body.slot);
          if (!Number.isSafeInteger(slot))
            throw new Error(
              `node ${node} answered a message to ${process} without a slot: ${JSON.stringify(body).slice(0, 500)}`,
            );
          const computed = body.raw !== null && typeof body.raw === "object";
          return { slot, ...(computed ? { result: normalized(body) } : {}) };
        },
      };
    },
    async result({ process, message }) {
      if (!("slot" in message))
        throw new Error(`AO mainnet reads results by slot, not by message ID ${message.id}`);
      const fields = {
        path: `/${process}~process@1.0/compute/results=${message.slot}`,
        target: process,
        data: dataOf(undefined),
        ...JSON_REPLY,
      };
      const what = `the result of slot ${message.slot} of process ${process}`;
      return normalized(
        await (await call(computeNode, readRequest(computeNode), fields, what, "compute")).json(),
      );
    },
    async dryrun({ process, tags, data, owner }) {
      // As aoconnect: the tags go in the path, the data in the signed item.
      const path = `/${process}~process@1.0/as=execution/compute${tags.map((t) => `&${t.name}=${t.value}`).join("")}`;
      const asOwner = wallet && owner !== undefined && owner === walletAddress(wallet);
      const fields = { path, target: process, data: dataOf(data), ...JSON_REPLY };
      const what = `a dry-run of process ${process}`;
      const request = asOwner ? walletRequest(computeNode) : readRequest(computeNode);
      return normalized(await (await call(computeNode, request, fields, what, "compute")).json());
    },
    async nodeAddress() {
      const url = `${node}/~meta@1.0/info/address`;
      const res = await fetch(url);
      const text = (await res.text()).trim();
      if (!res.ok)
        throw httpStatusError(
          res.status,
          `node ${node} answered HTTP ${res.status} to GET ${url}: ${text.slice(0, 500)}`,
        );
      return text;
    },
  };
  return client;
}

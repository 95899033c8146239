/**
 * AO mainnet (a HyperBEAM node) through the unmodified @permaweb/aoconnect 0.0.98 in mainnet mode.
 *
 * Every call is aoconnect's own signed request (`connect({ MODE: 'mainnet', URL, signer }).request`)
 * with the fields its spawn/message/result/dryrun send (src/client/ao-core.js), because those wrappers
 * turn every HTTP failure into a bare "Error sending message": without the status and the node's words
 * a retry could not tell a node whose compute unit is still starting (400) from a refusal, and an
 * error could not name the node and the slot. What differs from aoconnect's wrappers, on purpose:
 * - the spawn is signed once (signing.ts) and carries the stack's authority, never a default;
 * - reads that need no owner are signed by the run's key (signing.ts), so they need no wallet;
 * - compute requests (results, dry-runs, the current slot) are bounded in time, and a node that
 *   answers them 400 or not at all is "not ready": retried within the step's bound, then named.
 * Tags fold into fields as in aoconnect (a repeated name keeps the last: `check` refuses repeats).
 */
import type { AoClient, AoResult, SpawnArgs } from "./aoApi";
import { type AoSigner, aoconnect } from "./aoconnect";
import type { MainnetEndpoints } from "./aoValues";
import { httpStatusError, namedError, noWalletError } from "./errors";
import { onceSigner, readKey, signerFor } from "./signing";
import type { Tag } from "./types";
import { type Jwk, walletAddress } from "./wallet";

/** How long a compute request may take before the node counts as stalled. */
export const COMPUTE_TIMEOUT_MS = 30_000;

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

export interface MainnetClientOptions {
  computeTimeoutMs?: number;
}

export function createMainnetClient(
  endpoints: MainnetEndpoints,
  wallet: Jwk | undefined,
  options: MainnetClientOptions = {},
): AoClient {
  const node = endpoints.node;
  const timeoutMs = options.computeTimeoutMs ?? COMPUTE_TIMEOUT_MS;
  const ao = aoconnect();
  // aoconnect's mainnet mode takes the signer at connect (one given per call is ignored).
  const requestAs = (signer: AoSigner) => ao.connect({ MODE: "mainnet", URL: node, signer }).request;
  const theWallet = () => {
    if (!wallet) throw noWalletError();
    return wallet;
  };
  const walletRequest = () => requestAs(signerFor(theWallet(), ao.createSigner));
  const readRequest = () => requestAs(signerFor(readKey(), ao.createSigner));

  /**
   * aoconnect wraps a failed fetch in its own error (code REQUEST_HTTP_FAILED, the cause inside): said
   * again as the connection failure it is, so that the retry helper knows it.
   */
  const send = (
    request: (fields: Record<string, unknown>) => Promise<Response>,
    fields: Record<string, unknown>,
    what: string,
  ) =>
    request(fields).catch((err: { code?: unknown; cause?: unknown; message?: unknown }) => {
      if (err?.code !== "REQUEST_HTTP_FAILED") throw err;
      const cause = err.cause as { message?: unknown; cause?: { code?: unknown } } | undefined;
      throw Object.assign(
        new Error(
          `node ${node} could not be reached for ${what}: fetch failed (${String(cause?.message ?? err.message)})`,
        ),
        { cause },
      );
    });

  /** One request; a failure names the node and what was asked, with the node's answer. */
  async function call(
    request: (fields: Record<string, unknown>) => Promise<Response>,
    fields: Record<string, unknown>,
    what: string,
    compute: boolean,
  ): Promise<Response> {
    let res: Response;
    if (compute) {
      let timer: NodeJS.Timeout | undefined;
      const stalled = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(nodeNotReady(`node ${node} did not answer ${what} within ${timeoutMs / 1000} s`)),
          timeoutMs,
        );
      });
      try {
        res = await Promise.race([send(request, fields, what), stalled]);
      } finally {
        clearTimeout(timer);
      }
    } else {
      res = await send(request, fields, what);
    }
    if (res.ok) return res;
    const text = (await res.text().catch(() => "")).slice(0, 2000);
    const said = `node ${node} answered HTTP ${res.status} to ${what}: ${text}`;
    if (res.status === 404) throw httpStatusError(404, `not found: ${said}`);
    // A node answers 400 to compute requests while its embedded compute unit starts.
    if (res.status === 400 && compute)
      throw nodeNotReady(`${said} (its compute unit may still be starting)`, 400);
    throw httpStatusError(res.status, said);
  }

  const client: AoClient = {
    spawner({ module, scheduler, authority, tags, data }: SpawnArgs) {
      if (!authority)
        throw new Error(
          "a mainnet spawn needs the authority pinned (the node's address): aoconnect would default it to the scheduler",
        );
      const once = onceSigner(theWallet());
      const request = requestAs(once.signer);
      return {
        signedId: once.signedId,
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
          const res = await call(request, fields, "the spawn (POST /push)", false);
          const id = res.headers.get("process");
          if (!id) throw new Error(`node ${node} accepted the spawn but answered no process header`);
          return id;
        },
      };
    },
    async processExists(process) {
      const fields = { path: `/${process}/slot/current`, ...HTTP };
      try {
        await call(readRequest(), fields, `the current slot of process ${process}`, true);
        return true;
      } catch (err) {
        if ((err as { status?: number }).status === 404) return false;
        throw err;
      }
    },
    async message({ process, tags, data }) {
      const fields = {
        path: `/${process}~process@1.0/push`,
        target: process,
        data: dataOf(data),
        ...fold(tags),
        ...aoFields("Message"),
        ...JSON_REPLY,
      };
      const res = await call(walletRequest(), fields, `a message to process ${process}`, false);
      const body = (await res.json()) as { slot?: unknown };
      const slot = Number(body.slot);
      if (!Number.isSafeInteger(slot))
        throw new Error(
          `node ${node} answered a message to ${process} without a slot: ${JSON.stringify(body)}`,
        );
      return { slot };
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
      return normalized(await (await call(readRequest(), fields, what, true)).json());
    },
    async dryrun({ process, tags, data, owner }) {
      // As aoconnect: the tags go in the path, the data in the signed item.
      const path = `/${process}~process@1.0/as=execution/compute${tags.map((t) => `&${t.name}=${t.value}`).join("")}`;
      const asOwner = wallet && owner !== undefined && owner === walletAddress(wallet);
      const fields = { path, target: process, data: dataOf(data), ...JSON_REPLY };
      const what = `a dry-run of process ${process}`;
      return normalized(
        await (await call(asOwner ? walletRequest() : readRequest(), fields, what, true)).json(),
      );
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

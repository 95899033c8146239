/**
 * The state-transfer protocol (STATE-TRANSFER.md) from the deploy's side: the canonical encoding and
 * digest of exported entries (pure), and the protocol's actions as calls on an AoClient (an adapter).
 * The move itself (which calls, in which order, what to resume) is stateMove.ts.
 */
import type { AoClient, AoResult } from "./aoClient";
import { type Endpoints, unitUrl } from "./aoValues";
import { namedError } from "./errors";
import type { RetryFn } from "./pipeline";
import { resultError } from "./pipeline";

/** The protocol version this deploy speaks (`State-Info` reports the process's). */
export const STATE_TRANSFER_PROTOCOL = 1;

/** Default and largest page of a move: canonical bytes of the entries in one `State-Import`. */
export const DEFAULT_PAGE_BYTES = 256 * 1024;
export const MAX_PAGE_BYTES = 512 * 1024;
export const MIN_PAGE_BYTES = 1024;

export type TransferStatus = "open" | "sealed" | "frozen";

/** What `State-Info` reports. */
export interface TransferInfo {
  protocol: number;
  status: TransferStatus;
  digest: string;
  entries: number;
  bytes: number;
  successor: string | null;
  predecessor: string | null;
  import: { from: string; pages: number } | null;
  owner: string;
}

export type Entry = Record<string, unknown>;

export interface ExportPage {
  entries: Entry[];
  nextCursor: string | null;
  digest: string;
  total: number;
}

// ---------------------------------------------------------------------------------------------
// Canonical encoding and digest (pure)

/**
 * RFC 8785 (JCS) for the values entries use: keys sorted by UTF-16 code units (JavaScript's default
 * sort), no whitespace, strings and integers as JSON.stringify writes them.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === "boolean" || typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new Error(`canonical JSON: ${value} is not a safe integer`);
    return String(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object") {
    const o = value as Record<string, unknown>;
    const keys = Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(",")}}`;
  }
  throw new Error(`canonical JSON: cannot encode a ${typeof value}`);
}

const MOD = 1n << 256n;
export const EMPTY_DIGEST = "0".repeat(64);

/** The digest of a state: the sum mod 2^256 of SHA-256(canonical(entry)), as 64 hex digits. */
export function digestOf(entries: Iterable<Entry>): { digest: string; entries: number; bytes: number } {
  const { createHash } = require("node:crypto") as typeof import("node:crypto");
  let sum = 0n;
  let count = 0;
  let bytes = 0;
  for (const entry of entries) {
    const text = canonicalJson(entry);
    bytes += Buffer.byteLength(text, "utf8");
    sum = (sum + BigInt(`0x${createHash("sha256").update(text, "utf8").digest("hex")}`)) % MOD;
    count++;
  }
  return { digest: sum.toString(16).padStart(64, "0"), entries: count, bytes };
}

// ---------------------------------------------------------------------------------------------
// The protocol's actions (adapter)

/** A refusal from the process: its error code and message, with the process and action named. */
export const transferRefused = (processId: string, action: string, code: string, message: string) =>
  namedError("TransferRefused", `${action} on process ${processId} was refused: ${code}: ${message}`, {
    processId,
    action,
    code,
  });

/** The process does not speak the protocol (no such action, or a version this deploy does not know). */
export const noTransferProtocol = (processId: string, detail: string) =>
  namedError(
    "NoTransferProtocol",
    `process ${processId} does not speak the state-transfer protocol (version ${STATE_TRANSFER_PROTOCOL}): ${detail}`,
    { processId },
  );

type Reply = Record<string, unknown> & { ok: boolean; error?: { code?: string; message?: string } };

/** The `<action>-Response` in a result, parsed; a refusal becomes a TransferRefused. */
export function replyOf(result: AoResult, processId: string, action: string): Reply {
  const error = resultError(result);
  if (error) throw new Error(`${action} on process ${processId} failed in the process: ${error}`);
  const reply = (result.Messages ?? []).find((m) =>
    (m.Tags ?? []).some((t) => t.name === "Action" && t.value === `${action}-Response`),
  );
  if (!reply) throw noTransferProtocol(processId, `it did not answer ${action}`);
  let body: Reply;
  try {
    body = JSON.parse(String(reply.Data ?? "")) as Reply;
  } catch {
    throw new Error(`${action} on process ${processId}: the reply is not JSON`);
  }
  if (!body.ok)
    throw transferRefused(processId, action, body.error?.code ?? "E_UNKNOWN", body.error?.message ?? "");
  return body;
}

function infoOf(body: Reply, processId: string): TransferInfo {
  const info = body.stateTransfer as TransferInfo | undefined;
  if (!info || typeof info !== "object" || typeof info.protocol !== "number")
    throw noTransferProtocol(processId, "its reply carries no stateTransfer object");
  if (info.protocol !== STATE_TRANSFER_PROTOCOL)
    throw noTransferProtocol(processId, `it speaks version ${info.protocol}`);
  return info;
}

export interface TransferClient {
  readonly processId: string;
  info(): Promise<TransferInfo>;
  freeze(successor: string): Promise<{ already: boolean; info: TransferInfo }>;
  unfreeze(): Promise<{ already: boolean; info: TransferInfo }>;
  exportPage(cursor: string | null, maxBytes: number): Promise<ExportPage>;
  importPage(
    from: string,
    page: number,
    entries: Entry[],
  ): Promise<{ duplicate: boolean; info: TransferInfo }>;
  open(digest?: string): Promise<{ already: boolean; info: TransferInfo }>;
}

/**
 * The protocol's actions on one process. Reads are dry-runs (`owner` claims the owner for
 * `State-Export`); the rest are messages signed by the client's wallet, read back by their result.
 * Retrying any of them is safe: every action is idempotent by design (STATE-TRANSFER.md).
 */
export function transferClient(
  env: { client: AoClient; retry: RetryFn },
  endpoints: Endpoints,
  processId: string,
  owner: string | undefined,
): TransferClient {
  const { client, retry } = env;
  const mu = unitUrl(endpoints, "mu");
  const cu = unitUrl(endpoints, "cu");
  const json = (data: unknown) => JSON.stringify(data);
  const read = async (action: string, data: unknown) =>
    replyOf(
      await retry(`${action} (dry-run)`, cu, () =>
        client.dryrun({
          process: processId,
          tags: [{ name: "Action", value: action }],
          data: json(data),
          owner,
        }),
      ),
      processId,
      action,
    );
  const send = async (action: string, data: unknown) => {
    const message = await retry(action, mu, () =>
      client.message({ process: processId, tags: [{ name: "Action", value: action }], data: json(data) }),
    );
    const result = await retry(`${action} result`, cu, () => client.result({ process: processId, message }));
    return replyOf(result, processId, action);
  };
  const withInfo = (body: Reply) => ({ already: body.already === true, info: infoOf(body, processId) });
  return {
    processId,
    info: async () => infoOf(await read("State-Info", {}), processId),
    freeze: async (successor) => withInfo(await send("State-Freeze", { successor })),
    unfreeze: async () => withInfo(await send("State-Unfreeze", {})),
    async exportPage(cursor, maxBytes) {
      const body = await read("State-Export", { cursor, maxBytes });
      return {
        entries: body.entries as Entry[],
        nextCursor: (body.nextCursor as string | null) ?? null,
        digest: body.digest as string,
        total: body.total as number,
      };
    },
    async importPage(from, page, entries) {
      const body = await send("State-Import", { from, page, entries });
      return { duplicate: body.duplicate === true, info: infoOf(body, processId) };
    },
    open: async (digest) => withInfo(await send("State-Open", digest ? { digest } : {})),
  };
}

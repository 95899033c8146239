/**
 * The state-transfer protocol (STATE-TRANSFER.md) from the deploy's side: the canonical encoding and
 * digest of exported entries (pure), and the protocol's actions as calls on an AoClient (an adapter).
 * The move itself (which calls, in which order, what to resume) is stateMove.ts.
 */
import type { AoClient, AoResult } from "./aoClient";
import { type Endpoints, unitUrl } from "./aoValues";
import { isError, namedError } from "./errors";
import type { RetryFn } from "./pipeline";
import { resultError } from "./pipeline";
import { notYetError } from "./retry";

/**
 * The protocol version this deploy speaks (`State-Info` reports the process's), and the versions it moves
 * state out of and into: 1 (registry 1.2.0-1.3.0: `State-Export` answered only to the owner, a rollback
 * on the owner's word) and 2 (registry 1.4.0: reads answered to anyone, a rollback confirmed by the
 * successor process itself, `State-Confirm`).
 */
export const STATE_TRANSFER_PROTOCOL = 2;
export const SUPPORTED_PROTOCOLS: readonly number[] = [1, 2];

/** Default and largest page of a move: canonical bytes of the entries in one `State-Import`. */
export const DEFAULT_PAGE_BYTES = 256 * 1024;
export const MAX_PAGE_BYTES = 512 * 1024;
export const MIN_PAGE_BYTES = 1024;

export type TransferStatus = "open" | "sealed" | "frozen";

/** What a process reported of itself, by a message of its own, to the process that asked (`State-Confirm`). */
export interface SourceReport {
  status: TransferStatus;
  successor: string | null;
  digest: string;
  entries: number;
  bytes: number;
}

/** What `State-Info` reports (`source` and `import.rollback` from version 2). */
export interface TransferInfo {
  protocol: number;
  status: TransferStatus;
  digest: string;
  entries: number;
  bytes: number;
  successor: string | null;
  predecessor: string | null;
  import: { from: string; pages: number; rollback?: boolean } | null;
  source?: { process: string; report: SourceReport | null } | null;
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
    `process ${processId} does not speak the state-transfer protocol (version ${SUPPORTED_PROTOCOLS.join(" or ")}): ${detail}`,
    { processId },
  );

/**
 * Where a rollback target stands with its source's confirmation (pure): `confirmed` (the source reported
 * itself frozen for the target, with the digest the move exported), `pending` (asked, no answer yet),
 * `stale` (it answered something else: asked before it froze, or its state changed since) or `absent`
 * (not asked, or another process was).
 */
export function confirmationOf(
  target: Pick<TransferInfo, "source">,
  targetId: string,
  from: string,
  digest: string,
): "confirmed" | "pending" | "stale" | "absent" {
  const source = target.source;
  if (!source || source.process !== from) return "absent";
  const r = source.report;
  if (!r) return "pending";
  return r.status === "frozen" && r.successor === targetId && r.digest === digest ? "confirmed" : "stale";
}

/** How many times a wait for a confirmation asks the source again after an answer that does not confirm. */
export const CONFIRM_ASKS = 3;

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
  if (!SUPPORTED_PROTOCOLS.includes(info.protocol))
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
  /** Version 2: asks process `from` to confirm, by a message of its own, that it is frozen for this one. */
  confirm(from: string): Promise<TransferInfo>;
  /**
   * Version 2: waits until this process holds `from`'s confirmation of the state with `digest`, asking
   * again when an answer does not confirm it; a bounded wait, whose error says what is missing.
   */
  awaitConfirmation(from: string, digest: string): Promise<TransferInfo>;
}

/**
 * The protocol's actions on one process. Reads are dry-runs that claim no owner: version 2 answers them
 * to anyone, since a dry-run's Owner proves nothing (on AO's legacy compute unit it is an unsigned claim;
 * recent HyperBEAM drops it: STATE-TRANSFER.md). Only a version 1 process's `State-Export` is the owner's:
 * a dry-run claiming `owner` is tried first (the legacy compute unit honours the claim), and a refusal
 * (E_NOT_OWNER: a node that passes no Owner) moves the export to messages signed by the wallet, which
 * change nothing in a frozen process. The rest are messages signed by the client's wallet, read back
 * by their result. Retrying any of them is safe: every action is idempotent by design (STATE-TRANSFER.md).
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
  const read = async (action: string, data: unknown, asOwner?: string) =>
    replyOf(
      await retry(`${action} (dry-run)`, cu, () =>
        client.dryrun({
          process: processId,
          tags: [{ name: "Action", value: action }],
          data: json(data),
          ...(asOwner ? { owner: asOwner } : {}),
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
  /** The version the process reported last (read when first needed). */
  let protocol: number | undefined;
  /** A version 1 process refused the owner's dry-run: its export goes by signed messages. */
  let exportBySigned = false;
  const info = async () => {
    const got = infoOf(await read("State-Info", {}), processId);
    protocol = got.protocol;
    return got;
  };
  const exportBody = async (data: unknown): Promise<Reply> => {
    if ((protocol ?? (await info()).protocol) >= 2) return read("State-Export", data);
    if (!exportBySigned) {
      try {
        return await read("State-Export", data, owner);
      } catch (err) {
        if (!isError(err, "TransferRefused") || (err as { code?: string }).code !== "E_NOT_OWNER") throw err;
        exportBySigned = true;
      }
    }
    return send("State-Export", data);
  };
  const confirm = async (from: string) => infoOf(await send("State-Confirm", { from }), processId);
  return {
    processId,
    info,
    freeze: async (successor) => withInfo(await send("State-Freeze", { successor })),
    unfreeze: async () => withInfo(await send("State-Unfreeze", {})),
    async exportPage(cursor, maxBytes) {
      const body = await exportBody({ cursor, maxBytes });
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
    confirm,
    async awaitConfirmation(from, digest) {
      let asks = 0;
      return retry(`wait for process ${from} to confirm its state to ${processId}`, cu, async () => {
        const got = await info();
        const state = confirmationOf(got, processId, from, digest);
        if (state === "confirmed") return got;
        const r = got.source?.report;
        if ((state === "absent" || state === "stale") && asks < CONFIRM_ASKS) {
          asks++;
          await confirm(from);
        }
        const answer = r
          ? `an answer that does not confirm the move (${JSON.stringify(r)})`
          : "no answer yet";
        throw notYetError(
          `process ${processId} has ${answer} from ${from}, which must report itself frozen for ${processId} ` +
            `with digest ${digest}: ${from} answers only if it is a registry process on the same network`,
        );
      });
    },
  };
}

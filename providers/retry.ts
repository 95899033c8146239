/**
 * The one retry helper every network step uses. What is retryable, by name:
 * - connection errors: ECONNREFUSED, ECONNRESET, ETIMEDOUT, EPIPE, EAI_AGAIN, undici socket/connect
 *   errors, and `fetch failed` (undici's wrapper, whose `cause` carries the code); aoconnect's
 *   "Error while communicating with MU/CU: {}" is its wrapper for a rejected fetch (the cause is lost
 *   to JSON.stringify), so it is a connection error too;
 * - HTTP 408, 429 and 5xx (from `status`, `statusCode`, `response.status`, or "status NNN" in the message);
 * - "process not found yet" (a NotYetError, thrown by the wait step while the units catch up);
 * - a mainnet node not ready (a NodeNotReady: it answers compute requests 400 while its compute unit
 *   starts, or stalls at a slot past the request's bound; mainnetClient.ts).
 * Anything else fails at once. Retries back off exponentially with jitter, within a bounded total time;
 * the final error names the step, the endpoint, the last HTTP status and the last error.
 * A loopback endpoint that refuses connections is a local network that is not running, not a blip: it
 * gets LOOPBACK_REFUSED_MS of refusals (a restart's worth), then fails saying how to start it.
 */

import { isError, namedError } from "./errors";

/** Thrown by a step to say "not there yet, ask again" (e.g. the CU does not know the process yet). */
export const notYetError = (message: string) => namedError("NotYetError", message);

export const RETRYABLE_CODES = [
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
];

type ErrorLike = {
  code?: unknown;
  status?: unknown;
  statusCode?: unknown;
  response?: { status?: unknown };
  message?: unknown;
  cause?: unknown;
  name?: unknown;
};

/** The HTTP status an error carries, if any. */
export function errorStatus(err: unknown): number | undefined {
  const e = (err ?? {}) as ErrorLike;
  for (const s of [e.status, e.statusCode, e.response?.status]) {
    if (typeof s === "number" && s >= 100 && s <= 599) return s;
  }
  const m = /\b(?:status(?: code)?|HTTP)[:= ]+(\d{3})\b/i.exec(String(e.message ?? ""));
  if (m) return Number(m[1]);
  return e.cause ? errorStatus(e.cause) : undefined;
}

function errorCode(err: unknown, depth = 0): string | undefined {
  const e = (err ?? {}) as ErrorLike;
  if (typeof e.code === "string") return e.code;
  return e.cause && depth < 4 ? errorCode(e.cause, depth + 1) : undefined;
}

/** The reason an error is retryable, or undefined when it is not. */
export function retryableReason(err: unknown): string | undefined {
  if (isError(err, "NotYetError")) return "not found yet";
  if (isError(err, "NodeNotReady")) return "node not ready";
  const code = errorCode(err);
  if (code && RETRYABLE_CODES.includes(code)) return code;
  const message = String((err as ErrorLike)?.message ?? err);
  if (/fetch failed/i.test(message)) return "fetch failed";
  if (/Error while communicating with (MU|CU|SU)/.test(message) && errorStatus(err) === undefined) {
    return "connection error (aoconnect)";
  }
  for (const c of RETRYABLE_CODES) if (message.includes(c)) return c;
  if (/not found yet/i.test(message)) return "not found yet";
  const status = errorStatus(err);
  if (status === 408 || status === 429 || (status !== undefined && status >= 500)) return `HTTP ${status}`;
  return undefined;
}

export const isRetryable = (err: unknown) => retryableReason(err) !== undefined;

/** How long a refused loopback endpoint is retried: enough for the local network to restart. */
export const LOOPBACK_REFUSED_MS = 3_000;

/** Whether the URL's host is this machine (a local network), not a remote unit. */
export function isLoopbackUrl(url: string): boolean {
  try {
    const h = new URL(url).hostname;
    return h === "localhost" || h.endsWith(".localhost") || h === "[::1]" || /^127\./.test(h);
  } catch {
    return false;
  }
}

/**
 * Whether nothing listens at a loopback endpoint: a refused connection error says so itself; aoconnect's
 * wrapper and undici's "fetch failed" hide the cause, so the port is probed (a dropped reply is not a
 * refusal: the port still accepts).
 */
async function refusedAt(endpoint: string, err: unknown, probe: (endpoint: string) => Promise<boolean>) {
  const reason = retryableReason(err);
  if (reason === "ECONNREFUSED") return true;
  if (reason === "fetch failed" || reason === "connection error (aoconnect)") return probe(endpoint);
  return false;
}

/** Connects to the endpoint's port: true when the connection is refused. */
export function probeRefused(endpoint: string): Promise<boolean> {
  const net = require("node:net") as typeof import("node:net");
  const u = new URL(endpoint);
  const port = Number(u.port || (u.protocol === "https:" ? 443 : 80));
  return new Promise((resolve) => {
    const socket = net.connect({ host: u.hostname.replace(/^\[|\]$/g, ""), port });
    const done = (refused: boolean) => {
      socket.destroy();
      resolve(refused);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once("connect", () => done(false));
    socket.once("error", (e: NodeJS.ErrnoException) => done(e.code === "ECONNREFUSED"));
  });
}

export const localNetworkHint = (endpoint: string) =>
  `nothing answers at ${endpoint}: the local AO network is not running. Start it with \`npm run devnet\` (\`npm run deploy:dev\` starts it by itself)`;

export interface RetryOptions {
  /** What is being done, for the final error: "spawn", "wait for the process", "eval result", ... */
  step: string;
  /** The URL (or unit) being called. */
  endpoint: string;
  /** Total time budget, ms. Default 60 000. */
  totalMs?: number;
  /** First delay, ms. Default 250. */
  initialDelayMs?: number;
  /** Largest delay, ms. Default 5 000. */
  maxDelayMs?: number;
  /** Backoff factor. Default 2. */
  factor?: number;
  /** Injectable effects, for tests. */
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  random?: () => number;
  isRetryable?: (err: unknown) => boolean;
  /** Whether a loopback endpoint refuses connections (default: probeRefused). */
  probe?: (endpoint: string) => Promise<boolean>;
  /** Called before each wait (e.g. to log through pulumi.log). */
  onRetry?: (info: {
    step: string;
    endpoint: string;
    attempt: number;
    delayMs: number;
    reason: string;
  }) => void;
}

export interface RetryErrorFields {
  step: string;
  endpoint: string;
  attempts: number;
  status: number | undefined;
  lastError: unknown;
  retryable: boolean;
  /** What is known to be wrong, when it is more than the last error says (a local network not running). */
  why?: string;
}

/** The final error: names the step, the endpoint, the attempts, the last status and the last error. */
export function retryError(f: RetryErrorFields) {
  if (f.why) return namedError("RetryError", `${f.step} failed: ${f.why}`, f);
  const last = (f.lastError as ErrorLike)?.message ?? String(f.lastError);
  return namedError(
    "RetryError",
    `${f.step} failed at ${f.endpoint} after ${f.attempts} attempt${f.attempts === 1 ? "" : "s"}` +
      `${f.status !== undefined ? ` (last HTTP status ${f.status})` : ""}` +
      `${f.retryable ? " (gave up: retry time exhausted)" : " (not retryable)"}: ${String(last)}`,
    f,
  );
}

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const {
    step,
    endpoint,
    totalMs = 60_000,
    initialDelayMs = 250,
    maxDelayMs = 5_000,
    factor = 2,
    sleep = realSleep,
    // Not Date.now: @permaweb/ao-loader replaces it with a counter in any process that loads a module.
    // biome-ignore lint/complexity/useDateNow: Date.now may be the patched counter (see above)
    now = () => new Date().getTime(),
    random = Math.random,
    isRetryable: retryable = isRetryable,
    probe = probeRefused,
    onRetry,
  } = options;
  const deadline = now() + totalMs;
  const local = isLoopbackUrl(endpoint);
  let refusedSince: number | undefined;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      const canRetry = retryable(err);
      const localDown = canRetry && local && (await refusedAt(endpoint, err, probe));
      refusedSince = localDown ? (refusedSince ?? now()) : undefined;
      const down = refusedSince !== undefined && now() - refusedSince >= LOOPBACK_REFUSED_MS;
      const remaining = deadline - now();
      if (!canRetry || remaining <= 0 || down) {
        throw retryError({
          step,
          endpoint,
          attempts: attempt,
          status: errorStatus(err),
          lastError: err,
          retryable: canRetry && !down,
          ...(down ? { why: localNetworkHint(endpoint) } : {}),
        });
      }
      const base = Math.min(maxDelayMs, initialDelayMs * factor ** (attempt - 1));
      // Equal jitter: half fixed, half random, so concurrent deployers spread out.
      const budget = refusedSince === undefined ? remaining : refusedSince + LOOPBACK_REFUSED_MS - now();
      const delayMs = Math.min(remaining, budget, Math.round(base / 2 + (random() * base) / 2));
      onRetry?.({ step, endpoint, attempt, delayMs, reason: retryableReason(err) ?? "retryable" });
      await sleep(delayMs);
    }
  }
}

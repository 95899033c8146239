/**
 * What an error looks like when it leaves the provider for the dynamic-provider host: key material
 * removed, and its texts bounded. The host sends the message as the `grpc-message` trailer and an init
 * error's properties and reasons, with the message again, in `grpc-status-details-bin`; Node's HTTP/2
 * (nghttp2, under grpc-js and so under any Node client) resets a stream whose trailers exceed 64 KiB,
 * which would turn "Eval failed: <a long Lua error>" into a protocol error and lose the process ID.
 * Bounds are in wire bytes (grpc-message percent-encodes every byte outside printable ASCII).
 */
import type { Jwk } from "./wallet";
import { redact } from "./wallet";

/** The message's bound: with the reasons and the properties, the trailers stay under ~45 KiB. */
export const MAX_MESSAGE_BYTES = 16 * 1024;
/** Each reason's bound (the message already carries the whole, bounded, text). */
export const MAX_REASON_BYTES = 2 * 1024;

/** Bytes a character takes in `grpc-message`: printable ASCII as is, anything else percent-encoded. */
function wireBytes(ch: string): number {
  const c = ch.codePointAt(0)!;
  if (c >= 0x20 && c <= 0x7e && ch !== "%") return 1;
  return 3 * Buffer.byteLength(ch, "utf8");
}

/** The first characters of `chars` that fit in `budget` wire bytes. */
function fitting(chars: string[], budget: number): string[] {
  const out: string[] = [];
  let used = 0;
  for (const ch of chars) {
    used += wireBytes(ch);
    if (used > budget) break;
    out.push(ch);
  }
  return out;
}

/**
 * `text` whole if it fits in `maxBytes` wire bytes; else its head and tail (a Lua error names the place
 * first and the traceback last) around a note saying how much was left out.
 */
export function boundText(text: string, maxBytes: number): string {
  const chars = Array.from(text);
  if (chars.reduce((n, ch) => n + wireBytes(ch), 0) <= maxBytes) return text;
  const room = maxBytes - 80; // the note
  const head = fitting(chars, Math.floor((room * 3) / 4));
  const tail = fitting([...chars].reverse(), room - head.reduce((n, ch) => n + wireBytes(ch), 0)).reverse();
  const omitted = chars.length - head.length - tail.length;
  return `${head.join("")}\n[... ${omitted} more characters of this error left out ...]\n${tail.join("")}`;
}

/** The error as the host may send it: redacted (wallet.ts) and bounded, init-error fields kept. */
export function hostError(err: unknown, wallet: Jwk | undefined): Error {
  const e = err instanceof Error ? err : new Error(String(err));
  e.message = boundText(redact(e.message, wallet), MAX_MESSAGE_BYTES);
  const withReasons = e as { reasons?: unknown };
  if (Array.isArray(withReasons.reasons))
    withReasons.reasons = withReasons.reasons.map((r) =>
      boundText(redact(String(r), wallet), MAX_REASON_BYTES),
    );
  return e;
}

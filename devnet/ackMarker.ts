import { closeSync, existsSync, fdatasyncSync, openSync, readFileSync, writeSync } from "node:fs";
import { crc32 } from "node:zlib";

/**
 * A journal's acknowledged length: how many bytes of the journal were durable (fsynced) before anything
 * was acknowledged from them. It is what lets a start tell a record that a crash tore (beyond it, never
 * acknowledged: dropped) from a record that was acknowledged and then damaged (within it: the start
 * stops). The journal writes it after each fsync of its records and syncs it before it acknowledges them.
 *
 * File `<journal>.acked`: two 16-byte slots, written in turn, each [u64 LE length][u32 LE sequence]
 * [u32 LE CRC-32 of the 12 bytes before]. The valid slot with the higher sequence holds the length. A
 * write that a power loss tears damages only the slot being written, whose value was not yet relied on
 * (nothing is acknowledged before the sync): the other slot still holds the previous length.
 */
const SLOT = 16;

export const ackedFileOf = (journal: string) => `${journal}.acked`;

export interface AckedLength {
  length: number;
  seq: number;
}

export function encodeSlot(length: number, seq: number): Buffer {
  const b = Buffer.alloc(SLOT);
  b.writeBigUInt64LE(BigInt(length), 0);
  b.writeUInt32LE(seq >>> 0, 8);
  b.writeUInt32LE(crc32(b.subarray(0, 12)), 12);
  return b;
}

function decodeSlot(b: Buffer): AckedLength | undefined {
  if (b.length < SLOT || crc32(b.subarray(0, 12)) !== b.readUInt32LE(12)) return undefined;
  const length = b.readBigUInt64LE(0);
  if (length > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
  return { length: Number(length), seq: b.readUInt32LE(8) };
}

/** Sequence order that survives the u32 wrapping (serial number arithmetic, RFC 1982). */
const newer = (a: number, b: number) => ((a - b) | 0) > 0;

/** The acknowledged length in a marker's bytes, or why it cannot be read. Pure. */
export function decodeAcked(bytes: Buffer): AckedLength | { error: string } {
  const slots = [decodeSlot(bytes.subarray(0, SLOT)), decodeSlot(bytes.subarray(SLOT, 2 * SLOT))].filter(
    (s): s is AckedLength => s !== undefined,
  );
  if (slots.length === 0)
    return { error: `neither of its two slots is intact (${bytes.length} bytes; checksum mismatch)` };
  return slots.reduce((a, b) => (newer(b.seq, a.seq) ? b : a));
}

/** What a start reads, changing nothing: the marker's length, its damage, or nothing (no marker). */
export function readAcked(journal: string): AckedLength | { error: string } | undefined {
  const file = ackedFileOf(journal);
  return existsSync(file) ? decodeAcked(readFileSync(file)) : undefined;
}

/** The writer: one per journal, open while the journal is. */
export class AckMarker {
  private readonly fd: number;
  private seq: number;
  length: number;

  /** Opens the marker, creating it at `initial` when missing; a damaged one is rewritten at `initial`. */
  constructor(
    readonly path: string,
    initial: number,
  ) {
    const existing = existsSync(path) ? decodeAcked(readFileSync(path)) : undefined;
    this.fd = openSync(path, existing ? "r+" : "w+");
    const known = existing && !("error" in existing) ? existing : undefined;
    this.seq = known?.seq ?? 0;
    this.length = known?.length ?? -1;
    if (this.length !== initial) this.write(initial);
  }

  /** Records `length` durably (written, then fdatasync): call before acknowledging what it covers. */
  write(length: number): void {
    this.seq = (this.seq + 1) >>> 0;
    writeSync(this.fd, encodeSlot(length, this.seq), 0, SLOT, (this.seq % 2) * SLOT);
    fdatasyncSync(this.fd);
    this.length = length;
  }

  close(): void {
    closeSync(this.fd);
  }
}

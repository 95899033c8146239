import { existsSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { syncDir, writeFileDurably } from "../providers/durableFile";

/**
 * A snapshot of a process's memory after the message at `nonce`, in `snapshot-<nonce>.bin`:
 * [8 bytes magic][u32 CRC-32 of what follows][u16 length][assignment ID of that message][memory].
 * The assignment ID ties the snapshot to the message the log holds at that nonce, so a snapshot of a
 * message the log no longer holds (a dropped torn tail) is never restored.
 */
const MAGIC = Buffer.from("AOSNAP01");

export interface SnapshotFile {
  nonce: number;
  file: string;
}

export function listSnapshots(dir: string): SnapshotFile[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((f) => /^snapshot-(\d+)\.bin$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ nonce: Number(m[1]), file: join(dir, m[0]) }))
    .sort((a, b) => b.nonce - a.nonce);
}

/** The nonce of the newest snapshot at or before `atMost`, by name. */
export function latestSnapshotNonce(dir: string, atMost = Number.POSITIVE_INFINITY): number | undefined {
  return listSnapshots(dir).find((s) => s.nonce <= atMost)?.nonce;
}

export function encodeSnapshot(assignmentId: string, memory: Uint8Array): Buffer {
  const id = Buffer.from(assignmentId);
  const idLen = Buffer.alloc(2);
  idLen.writeUInt16LE(id.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32LE(crc32(memory, crc32(id, crc32(idLen))));
  return Buffer.concat([MAGIC, crc, idLen, id, memory]);
}

/** The memory in a snapshot file's bytes, or why it cannot be restored. Pure. */
export function decodeSnapshot(
  bytes: Buffer,
  assignmentId: string | undefined,
): { memory: Buffer } | { error: string } {
  if (bytes.length < 14 || !bytes.subarray(0, 8).equals(MAGIC))
    return { error: "written before snapshots had checksums" };
  const idEnd = 14 + bytes.readUInt16LE(12);
  if (crc32(bytes.subarray(12)) !== bytes.readUInt32LE(8)) return { error: "checksum mismatch" };
  const id = bytes.subarray(14, idEnd).toString();
  if (id !== assignmentId)
    return { error: `taken after assignment ${id}, which the messages log does not hold at that nonce` };
  return { memory: bytes.subarray(idEnd) };
}

/** Writes a snapshot durably, then removes the older ones. */
export function writeSnapshot(dir: string, nonce: number, assignmentId: string, memory: Uint8Array): void {
  writeFileDurably(join(dir, `snapshot-${nonce}.bin`), encodeSnapshot(assignmentId, memory));
  for (const old of listSnapshots(dir)) if (old.nonce < nonce) rmSync(old.file);
  syncDir(dir);
}

/**
 * The newest snapshot at or before `atMost` that can be restored. One that cannot (damaged, from before
 * checksums, or of a message the log does not hold) is set aside as `<file>.ignored` and reported: the
 * compute unit replays the log from an older one instead.
 */
export function readSnapshot(
  dir: string,
  atMost: number,
  assignmentAt: (nonce: number) => string | undefined,
  report: (line: string) => void,
): { nonce: number; memory: Buffer } | undefined {
  for (const s of listSnapshots(dir)) {
    if (s.nonce > atMost) continue;
    const d = decodeSnapshot(readFileSync(s.file), assignmentAt(s.nonce));
    if ("memory" in d) return { nonce: s.nonce, memory: d.memory };
    renameSync(s.file, `${s.file}.ignored`);
    report(
      `${s.file}: not restored (${d.error}); set aside as ${s.file}.ignored; replaying from the log instead`,
    );
  }
  return undefined;
}

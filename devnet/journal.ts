import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readFileSync,
  readSync,
  writeSync,
} from "node:fs";
import { crc32 } from "node:zlib";
import { writeFileDurably } from "../providers/durableFile";

/**
 * Record format: one JSON object per line whose last field is `"#crc":"<8 hex>"`, the CRC-32 of the
 * line's bytes before that field, seeded with the previous record's CRC. The chain makes a deleted,
 * duplicated or reordered line as visible as a flipped byte. The field sits inside the object so that
 * an older reader (which knew plain JSON lines) still parses the records instead of cutting the file.
 * Lines without the field are records written before checksums: accepted before the first checked one.
 */
const CRC_FIELD = '"#crc":"';
const CRC_TAIL = /"#crc":"([0-9a-f]{8})"\}$/;
/** Bytes of `"#crc":"xxxxxxxx"}\n`, the end of every checked line. */
const CRC_TAIL_BYTES = CRC_FIELD.length + 8 + 3;

/** Where a record sits in its file: 1-based line and the byte offset at which the line starts. */
export interface RecordPlace {
  line: number;
  offset: number;
}

/** An unfinished last record: a crash while it was written, before it was synced and acknowledged. */
export interface TornTail extends RecordPlace {
  bytes: number;
  reason: string;
}

/** What a read found, without changing the file. `damage` is a bad record that good ones follow. */
export interface JournalScan<T> {
  path: string;
  records: T[];
  places: RecordPlace[];
  /** Records written before checksums (accepted as they are). */
  legacy: number;
  torn?: TornTail;
  damage?: RecordPlace & { reason: string };
  /** Bytes of the file: the records end at `torn?.offset ?? size` when there is no damage. */
  size: number;
}

/** A journal that cannot be read without losing acknowledged records: the start stops here. */
export class JournalDamageError extends Error {
  constructor(
    readonly path: string,
    readonly place: RecordPlace,
    readonly reason: string,
    readonly recordsAfter: number,
  ) {
    super(
      `${path}: record ${place.line} (line ${place.line}, byte ${place.offset}) is damaged: ${reason}. ` +
        "Nothing was changed. To recover, restore this file from a backup; or keep the " +
        `${place.line - 1} records before it and give up the ${recordsAfter + 1} from it on ` +
        `(acknowledged data) by cutting the file there, after keeping a copy: ` +
        `cp '${path}' '${path}.damaged' && truncate -s ${place.offset} '${path}'`,
    );
    this.name = "JournalDamageError";
  }
}

/** A record's JSON text; records are objects, whose last field the checksum becomes. */
function recordJson(record: unknown): string {
  const json = JSON.stringify(record);
  if (!json?.startsWith("{"))
    throw new TypeError(`journal records are JSON objects, not ${String(json).slice(0, 20)}`);
  return json;
}

/** The line for `json` (a JSON object's text) following a record whose CRC is `prev`. */
export function encodeRecord(json: string, prev: number): { line: string; crc: number } {
  const head = json === "{}" ? "{" : `${json.slice(0, -1)},`;
  const crc = crc32(head, prev);
  return { line: `${head}${CRC_FIELD}${crc.toString(16).padStart(8, "0")}"}\n`, crc };
}

type Decoded<T> = { value: T; crc?: number } | { error: string };

/** One line (without its newline), checked against the previous record's CRC. */
export function decodeRecord<T>(line: Buffer, prev: number): Decoded<T> {
  const m = CRC_TAIL.exec(line.subarray(-(CRC_TAIL_BYTES - 1)).toString("latin1"));
  if (!m) {
    try {
      return { value: JSON.parse(line.toString("utf8")) as T };
    } catch {
      return { error: "not a JSON record" };
    }
  }
  const headBytes = line.length - (CRC_TAIL_BYTES - 1);
  const stored = Number.parseInt(m[1]!, 16);
  const crc = crc32(line.subarray(0, headBytes), prev);
  if (crc !== stored) return { error: "checksum mismatch (the record or one before it was changed)" };
  const head = line.subarray(0, headBytes).toString("utf8");
  try {
    return { value: JSON.parse(head === "{" ? "{}" : `${head.slice(0, -1)}}`) as T, crc };
  } catch {
    return { error: "checksum matches but the record is not JSON" };
  }
}

/** Reads a journal's bytes into records, a torn tail and the first damaged record. Pure. */
export function scanJournal<T>(path: string, buf: Buffer): JournalScan<T> {
  const scan: JournalScan<T> = { path, records: [], places: [], legacy: 0, size: buf.length };
  let prev = 0;
  let checked = false;
  for (let offset = 0, line = 1; offset < buf.length; line++) {
    const nl = buf.indexOf(10, offset);
    if (nl === -1) {
      scan.torn = { line, offset, bytes: buf.length - offset, reason: "unfinished last record (no newline)" };
      break;
    }
    const d = decodeRecord<T>(buf.subarray(offset, nl), prev);
    const reason =
      "error" in d
        ? d.error
        : checked && d.crc === undefined
          ? "a record without a checksum after checked ones"
          : "";
    if (reason || "error" in d) {
      // Only the last record can be torn: a bad record that good ones follow was acknowledged once.
      if (nl + 1 === buf.length) scan.torn = { line, offset, bytes: buf.length - offset, reason };
      else scan.damage = { line, offset, reason };
      break;
    }
    scan.records.push(d.value);
    scan.places.push({ line, offset });
    if (d.crc === undefined) scan.legacy++;
    else checked = true;
    prev = d.crc ?? 0;
    offset = nl + 1;
  }
  return scan;
}

/** Lines after the damaged one, for the error's count of what a cut gives up. */
function linesAfter(buf: Buffer, offset: number): number {
  let n = 0;
  for (let i = buf.indexOf(10, offset); i !== -1 && i + 1 < buf.length; i = buf.indexOf(10, i + 1)) n++;
  return n;
}

/**
 * An append-only file of checksummed JSON records, one a line.
 *
 * `append` resolves once the line is on disk (fdatasync); lines appended while a sync is under way are
 * written and synced together (group commit), so concurrent writers share one fsync. `appendLazy` writes
 * without waiting for the disk, for data that can be recomputed after a crash. A failed write or sync
 * closes the journal (fail-stop): what follows is never glued to a half-written line.
 */
export class Journal {
  private readonly fd: number;
  private pending: { json: string; done: () => void; fail: (e: Error) => void }[] = [];
  private flushing = false;
  private closed = false;
  private failed?: Error;
  /** CRC of the last record in the file: the seed of the next one. */
  private prev: number;

  constructor(readonly path: string) {
    this.fd = openSync(path, "a+");
    this.prev = lastCrc(this.fd, path);
  }

  /** Reads a journal and changes nothing: records, a torn tail, damage. */
  static scan<T>(path: string): JournalScan<T> {
    return existsSync(path)
      ? scanJournal<T>(path, readFileSync(path))
      : scanJournal<T>(path, Buffer.alloc(0));
  }

  /** Throws `JournalDamageError` when a scan found damage that good records follow. */
  static assertUndamaged(scan: JournalScan<unknown>): void {
    if (!scan.damage) return;
    const buf = readFileSync(scan.path);
    throw new JournalDamageError(
      scan.path,
      scan.damage,
      scan.damage.reason,
      linesAfter(buf, scan.damage.offset),
    );
  }

  /**
   * Drops a torn tail found by `scan`: its bytes are kept beside the journal (`<path>.torn-<offset>`)
   * and the journal is cut where the tail began. Returns the report line, or nothing when not torn.
   */
  static dropTornTail(scan: JournalScan<unknown>): string | undefined {
    const { torn, path } = scan;
    if (!torn) return undefined;
    const buf = readFileSync(path);
    const aside = `${path}.torn-${torn.offset}`;
    writeFileDurably(aside, buf.subarray(torn.offset));
    const fd = openSync(path, "r+");
    try {
      ftruncateSync(fd, torn.offset);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    return `${path}: dropped an unfinished last record (line ${torn.line}, bytes ${torn.offset}-${torn.offset + torn.bytes - 1}, ${torn.bytes} bytes: ${torn.reason}); it was never acknowledged; its bytes are kept in ${aside}`;
  }

  /**
   * Reads every record. A torn last record is dropped (kept aside) and reported; damage that good
   * records follow throws `JournalDamageError` before anything is changed.
   */
  static readChecked<T>(path: string, report: (line: string) => void = () => {}): T[] {
    const scan = Journal.scan<T>(path);
    Journal.assertUndamaged(scan);
    const dropped = Journal.dropTornTail(scan);
    if (dropped) report(dropped);
    return scan.records;
  }

  /** `readChecked`, reporting a dropped torn tail on stderr. */
  static read<T>(path: string): T[] {
    return Journal.readChecked<T>(path, (line) => console.error(line));
  }

  append(record: unknown): Promise<void> {
    if (this.closed) return Promise.reject(this.failed ?? new Error(`journal ${this.path} is closed`));
    let json: string;
    try {
      json = recordJson(record);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise((done, fail) => {
      this.pending.push({ json, done, fail });
      if (!this.flushing) this.flush();
    });
  }

  appendLazy(record: unknown): void {
    if (this.closed) return;
    this.write([recordJson(record)]);
  }

  /** Makes everything written so far durable. */
  sync(): void {
    if (!this.closed) fsyncSync(this.fd);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (!this.failed) fsyncSync(this.fd);
    closeSync(this.fd);
  }

  /** Encodes (chaining CRCs in file order) and writes in one call. */
  private write(jsons: string[]): void {
    let prev = this.prev;
    const lines = jsons.map((json) => {
      const r = encodeRecord(json, prev);
      prev = r.crc;
      return r.line;
    });
    try {
      writeSync(this.fd, lines.join(""));
    } catch (err) {
      this.fail(err as Error);
      throw err;
    }
    this.prev = prev;
  }

  private fail(err: Error): void {
    this.failed = new Error(`journal ${this.path} failed (${err.message}); restart the network`);
    this.close();
  }

  private flush(): void {
    this.flushing = true;
    // Yield once so that appends made in the same tick join this batch.
    setImmediate(() => {
      const batch = this.pending;
      this.pending = [];
      try {
        if (this.closed) throw this.failed ?? new Error(`journal ${this.path} is closed`);
        this.write(batch.map((p) => p.json));
        try {
          fsyncSync(this.fd);
        } catch (err) {
          this.fail(err as Error);
          throw err;
        }
        for (const p of batch) p.done();
      } catch (err) {
        for (const p of batch) p.fail(err as Error);
      }
      if (this.pending.length > 0) this.flush();
      else this.flushing = false;
    });
  }
}

/** The CRC at the end of the file's last line (0 for an empty file or a record without one). */
function lastCrc(fd: number, path: string): number {
  const { size } = fstatSync(fd);
  if (size === 0) return 0;
  const tail = Buffer.alloc(Math.min(size, CRC_TAIL_BYTES));
  readSync(fd, tail, 0, tail.length, size - tail.length);
  if (tail.at(-1) !== 10) {
    closeSync(fd);
    throw new Error(
      `${path} ends in an unfinished record: read it with Journal.readChecked first, which drops it`,
    );
  }
  const m = CRC_TAIL.exec(tail.subarray(0, -1).toString("latin1"));
  return m ? Number.parseInt(m[1]!, 16) : 0;
}

import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  writeSync,
} from "node:fs";
import { dirname } from "node:path";
import { crc32 } from "node:zlib";
import { syncDir, writeFileDurably } from "../providers/durableFile";
import { AckMarker, ackedFileOf, readAcked } from "./ackMarker";

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

/** What a start may drop: bytes never acknowledged (see `judgeTail`), from `offset` to the end. */
export interface TornTail extends RecordPlace {
  bytes: number;
  reason: string;
}

/**
 * Damage: acknowledged records that cannot be read. The way back is to cut the file at the damaged
 * record, unless `lostTail` (the file ends before the acknowledged length: nothing to cut).
 */
export interface Damage extends RecordPlace {
  reason: string;
  lostTail?: boolean;
}

/**
 * What a read found, without changing the file: its records, then nothing wrong, a tail that can be
 * dropped (`torn`), or damage that stops the start (`damage`).
 */
export interface JournalScan<T> {
  path: string;
  records: T[];
  places: RecordPlace[];
  /** Records written before checksums (accepted as they are). */
  legacy: number;
  torn?: TornTail;
  damage?: Damage;
  /** Bytes of the file: the records end at `torn?.offset ?? size` when there is no damage. */
  size: number;
  /** The acknowledged length its marker holds (devnet/ackMarker.ts); undefined without a marker. */
  acked?: number;
}

/** A journal that cannot be read without losing acknowledged records: the start stops here. */
export class JournalDamageError extends Error {
  constructor(
    readonly path: string,
    readonly place: RecordPlace,
    readonly reason: string,
    readonly recordsAfter: number,
    lostTail = false,
  ) {
    super(
      `${path}: record ${place.line} (line ${place.line}, byte ${place.offset}) is damaged: ${reason}. ` +
        "Nothing was changed. To recover, restore this file from a backup; or " +
        (lostTail
          ? `accept the loss by removing its marker of the acknowledged length: rm '${ackedFileOf(path)}'`
          : `keep the ${place.line - 1} records before it and give up the ${recordsAfter + 1} from it on ` +
            "(acknowledged data) by cutting the file there, after keeping a copy, and removing its " +
            "marker of the acknowledged length: " +
            `cp '${path}' '${path}.damaged' && truncate -s ${place.offset} '${path}' && ` +
            `rm -f '${ackedFileOf(path)}'`),
    );
    this.name = "JournalDamageError";
  }
}

/** A marker that cannot be read: nothing says which of the journal's records were acknowledged. */
export class AckedMarkerDamageError extends Error {
  constructor(journal: string, reason: string) {
    const marker = ackedFileOf(journal);
    super(
      `${marker} is damaged: ${reason}. It holds how many bytes of ${journal} were acknowledged. ` +
        "Nothing was changed. To recover, restore it from a backup; or, once you have checked that " +
        `${journal} holds every record you expect, remove it (rm '${marker}'): the start then trusts ` +
        "the journal up to its last complete record and writes a new marker",
    );
    this.name = "AckedMarkerDamageError";
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

/** The first record that does not read: where, why, whether it ends in a newline and is the last line. */
export interface BadRecord extends RecordPlace {
  reason: string;
  /** Ends in a newline: written to its end. */
  complete: boolean;
  /** Nothing follows it. */
  last: boolean;
}

/**
 * Reads a journal's bytes into its records, then judges what follows them (`judgeTail`). `acked` is the
 * length its marker holds, undefined when it has none. Pure.
 */
export function scanJournal<T>(path: string, buf: Buffer, acked?: number): JournalScan<T> {
  const scan: JournalScan<T> = { path, records: [], places: [], legacy: 0, size: buf.length };
  if (acked !== undefined) scan.acked = acked;
  let prev = 0;
  let checked = false;
  let bad: BadRecord | undefined;
  for (let offset = 0, line = 1; offset < buf.length; line++) {
    const nl = buf.indexOf(10, offset);
    if (nl === -1) {
      bad = { line, offset, reason: "unfinished last record (no newline)", complete: false, last: true };
      break;
    }
    const d = decodeRecord<T>(buf.subarray(offset, nl), prev);
    if ("error" in d || (checked && d.crc === undefined)) {
      const reason = "error" in d ? d.error : "a record without a checksum after checked ones";
      bad = { line, offset, reason, complete: true, last: nl + 1 === buf.length };
      break;
    }
    scan.records.push(d.value);
    scan.places.push({ line, offset });
    if (d.crc === undefined) scan.legacy++;
    else checked = true;
    prev = d.crc ?? 0;
    offset = nl + 1;
  }
  const verdict = judgeTail(bad, scan.records.length, buf.length, acked);
  if (verdict === "drop" && bad)
    scan.torn = { line: bad.line, offset: bad.offset, bytes: buf.length - bad.offset, reason: bad.reason };
  else if (typeof verdict === "object") scan.damage = verdict;
  return scan;
}

/**
 * Whether what follows a journal's good records (`count` of them) may be dropped. A record is acknowledged
 * only once it is durable and the marker covers it, so:
 * - with a marker, whatever starts at or beyond its length was never acknowledged: a tail that a crash or
 *   a power loss tore (cut short, zeros, or whole lines whose every byte did not reach the disk) is
 *   dropped; a bad record within it, or a file that ends before it, lost acknowledged data: damage;
 * - without one (a journal written before markers), only a last record cut short (no newline) is surely
 *   torn; a complete record whose checksum fails may have been acknowledged: damage.
 * Pure.
 */
export function judgeTail(
  bad: BadRecord | undefined,
  count: number,
  size: number,
  acked: number | undefined,
): "ok" | "drop" | Damage {
  if (acked !== undefined) {
    const end = bad?.offset ?? size;
    if (end >= acked) return bad ? "drop" : "ok";
    if (bad)
      return { ...placeOf(bad), reason: `${bad.reason}; it lies within the ${acked} acknowledged bytes` };
    return {
      line: count + 1,
      offset: size,
      reason:
        `the file ends at byte ${size}, but its first ${acked} bytes were acknowledged: ` +
        "acknowledged records are missing",
      lostTail: true,
    };
  }
  if (!bad) return "ok";
  if (bad.last && !bad.complete) return "drop";
  return {
    ...placeOf(bad),
    reason: bad.last
      ? `${bad.reason}; it is complete, and with no marker of what was acknowledged it may have been`
      : bad.reason,
  };
}

const placeOf = (r: RecordPlace): RecordPlace => ({ line: r.line, offset: r.offset });

/** Lines after the damaged one, for the error's count of what a cut gives up. */
function linesAfter(buf: Buffer, offset: number): number {
  let n = 0;
  for (let i = buf.indexOf(10, offset); i !== -1 && i + 1 < buf.length; i = buf.indexOf(10, i + 1)) n++;
  return n;
}

/** Creates a directory and its missing parents, making each new entry durable (fsync of its parent). */
export function mkdirDurably(dir: string): void {
  if (existsSync(dir)) return;
  mkdirDurably(dirname(dir));
  mkdirSync(dir);
  syncDir(dirname(dir));
}

export interface JournalOptions {
  /**
   * Keep an acknowledged-length marker (`<path>.acked`): for journals whose records cannot be recomputed,
   * so that a start can tell a torn tail from damage (see `judgeTail`).
   */
  acked?: boolean;
}

/**
 * An append-only file of checksummed JSON records, one a line.
 *
 * `append` resolves once the line is durable: written, fsynced, and (with a marker) covered by the
 * acknowledged length, itself synced. Lines appended while a sync is under way are written and synced
 * together (group commit), so concurrent writers share those syncs. `appendLazy` writes without waiting
 * for the disk, for data that can be recomputed after a crash. A new journal's file and directory
 * entries are synced before its first record, so a power loss cannot take an acknowledged file away. A
 * failed write or sync closes the journal (fail-stop): what follows is never glued to a half-written line.
 */
export class Journal {
  private readonly fd: number;
  private readonly marker?: AckMarker;
  private pending: { json: string; done: () => void; fail: (e: Error) => void }[] = [];
  private flushing = false;
  private closed = false;
  private failed?: Error;
  /** CRC of the last record in the file: the seed of the next one. */
  private prev: number;
  /** Bytes of the file: where the next record starts. */
  private size: number;

  /**
   * Opens a journal for appending, after a start has read and judged it (a scan's torn tail dropped). Its
   * marker then covers the whole file: the start builds on every record it kept.
   */
  constructor(
    readonly path: string,
    opts: JournalOptions = {},
  ) {
    const created = !existsSync(path);
    const markerCreated = opts.acked === true && !existsSync(ackedFileOf(path));
    if (created) mkdirDurably(dirname(path));
    this.fd = openSync(path, "a+");
    this.prev = lastCrc(this.fd, path);
    this.size = fstatSync(this.fd).size;
    try {
      if (created) fsyncSync(this.fd);
      if (opts.acked) this.marker = new AckMarker(ackedFileOf(path), this.size);
      if (created || markerCreated) syncDir(dirname(path));
    } catch (err) {
      closeSync(this.fd);
      throw err;
    }
  }

  /**
   * Reads a journal and changes nothing: records, then a droppable tail or damage, judged with its marker
   * when it has one. A marker that cannot be read throws `AckedMarkerDamageError`.
   */
  static scan<T>(path: string): JournalScan<T> {
    const acked = readAcked(path);
    if (acked && "error" in acked) throw new AckedMarkerDamageError(path, acked.error);
    const buf = existsSync(path) ? readFileSync(path) : Buffer.alloc(0);
    return scanJournal<T>(path, buf, acked?.length);
  }

  /** Throws `JournalDamageError` when a scan found damage. */
  static assertUndamaged(scan: JournalScan<unknown>): void {
    if (!scan.damage) return;
    const buf = existsSync(scan.path) ? readFileSync(scan.path) : Buffer.alloc(0);
    throw new JournalDamageError(
      scan.path,
      scan.damage,
      scan.damage.reason,
      linesAfter(buf, scan.damage.offset),
      scan.damage.lostTail,
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
    const why =
      scan.acked === undefined
        ? "cut short, so never acknowledged"
        : `it starts at or after the ${scan.acked} acknowledged bytes, so it was never acknowledged`;
    return `${path}: dropped a torn tail (line ${torn.line}, bytes ${torn.offset}-${torn.offset + torn.bytes - 1}, ${torn.bytes} bytes: ${torn.reason}); ${why}; its bytes are kept in ${aside}`;
  }

  /**
   * Reads every record. A torn tail is dropped (kept aside) and reported; damage throws
   * `JournalDamageError` before anything is changed.
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
    this.marker?.close();
  }

  /** Encodes (chaining CRCs in file order) and writes in one call. */
  private write(jsons: string[]): void {
    let prev = this.prev;
    const lines = jsons.map((json) => {
      const r = encodeRecord(json, prev);
      prev = r.crc;
      return r.line;
    });
    const bytes = Buffer.from(lines.join(""));
    try {
      writeSync(this.fd, bytes);
    } catch (err) {
      this.fail(err as Error);
      throw err;
    }
    this.prev = prev;
    this.size += bytes.length;
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
          // The records are durable; the marker now says so, durably, before anyone is told.
          this.marker?.write(this.size);
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

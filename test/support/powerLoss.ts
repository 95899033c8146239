/**
 * A power loss, after the fact: rebuilds a data directory as the disk would hold it had the machine lost
 * power at the moment its network was killed, from what `powerLossRecorder.cjs` saw the network make
 * durable. Unlike `kill -9` (after which the page cache still writes everything out), bytes that were
 * written but never synced are discarded or torn, and entries created in a directory that was never
 * synced vanish.
 *
 * Modelled: the journals (`*.log`), their markers (`*.acked`), and the creation of files and directories.
 * Not modelled: files replaced by rename (snapshots, wallet.json, network.json), which are left as the
 * page cache holds them: they are written whole and synced before the rename, and recomputed when bad.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/** What became of the bytes a journal held beyond its last sync. */
export type Tear =
  /** lost */
  | "none"
  /** the first half reached the disk */
  | "half"
  /** their blocks were allocated but never written */
  | "zeros"
  /** all reached the disk but one byte (a stale sector) */
  | "flip"
  /** all reached the disk */
  | "whole";

export const TEARS: Tear[] = ["none", "half", "zeros", "flip", "whole"];

interface Entry {
  created: boolean;
  entryDurable: boolean;
  dir: boolean;
  openSize?: number;
  syncedSize?: number;
  syncedData?: Buffer;
}

type Event =
  | { op: "open"; path: string; size: number; dir: boolean }
  | { op: "create"; path: string }
  | { op: "sync"; path: string; size: number; data?: string }
  | { op: "dirsync"; path: string };

function replay(events: Event[]): Map<string, Entry> {
  const entries = new Map<string, Entry>();
  const entry = (p: string) => {
    const known = entries.get(p);
    if (known) return known;
    const e: Entry = { created: false, entryDurable: true, dir: false };
    entries.set(p, e);
    return e;
  };
  for (const ev of events) {
    const e = entry(ev.path);
    switch (ev.op) {
      case "create":
        e.created = true;
        e.entryDurable = false;
        break;
      case "open":
        e.dir = ev.dir;
        e.openSize ??= ev.size;
        break;
      case "sync":
        e.syncedSize = ev.size;
        if (ev.data !== undefined) e.syncedData = Buffer.from(ev.data, "base64");
        break;
      case "dirsync":
        e.dir = true;
        for (const [p, other] of entries)
          if (other.created && dirname(p) === ev.path) other.entryDurable = true;
        break;
    }
  }
  return entries;
}

/** The unsynced bytes `tail` as `tear` leaves them. */
function torn(tail: Buffer, tear: Tear): Buffer {
  switch (tear) {
    case "none":
      return Buffer.alloc(0);
    case "half":
      return tail.subarray(0, Math.ceil(tail.length / 2));
    case "zeros":
      return Buffer.alloc(tail.length);
    case "flip": {
      const copy = Buffer.from(tail);
      copy[Math.floor(copy.length / 2)]! ^= 0x04;
      return copy;
    }
    case "whole":
      return tail;
  }
}

export interface PowerLoss {
  /** Paths that vanished (created, their directory never synced since). */
  vanished: string[];
  /** Journals whose unsynced bytes were torn, and how many bytes those were. */
  torn: { path: string; unsynced: number }[];
}

/**
 * Applies a power loss to the data directory the recorder watched. `marker` says whether a marker write
 * that was not synced yet reached the disk ("latest") or not ("synced").
 */
export function simulatePowerLoss(
  recorderLog: string,
  opts: { tear: Tear; marker: "synced" | "latest"; rootOf?: (path: string) => string },
): PowerLoss {
  const events = readFileSync(recorderLog, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Event);
  const map = opts.rootOf ?? ((p: string) => p);
  const entries = replay(events);
  const out: PowerLoss = { vanished: [], torn: [] };
  const gone = [...entries].filter(([, e]) => e.created && !e.entryDurable).map(([p]) => p);
  for (const p of gone.sort((a, b) => a.length - b.length)) {
    const at = map(p);
    if (!existsSync(at)) continue;
    rmSync(at, { recursive: true, force: true });
    out.vanished.push(p);
  }
  for (const [p, e] of entries) {
    const at = map(p);
    if (e.dir || !existsSync(at)) continue;
    if (p.endsWith(".log")) {
      const bytes = readFileSync(at);
      const durable = e.syncedSize ?? (e.created ? 0 : (e.openSize ?? bytes.length));
      if (bytes.length <= durable) continue;
      const tail = bytes.subarray(durable);
      writeFileSync(at, Buffer.concat([bytes.subarray(0, durable), torn(tail, opts.tear)]));
      out.torn.push({ path: p, unsynced: tail.length });
    } else if (p.endsWith(".acked") && opts.marker === "synced") {
      if (e.syncedData) writeFileSync(at, e.syncedData);
      else if (e.created) writeFileSync(at, Buffer.alloc(0));
    }
  }
  return out;
}

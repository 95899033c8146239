import { createHash } from "node:crypto";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { wallClock } from "./clock";
import type { Item } from "./dataItem";
import { Journal, JournalDamageError, type JournalScan, mkdirDurably } from "./journal";
import { NotFoundError } from "./notFound";

/** Where a cranked message came from: the process, the message that produced it, its place in the outbox. */
export interface CrankOrigin {
  process: string;
  nonce: number;
  kind: "message" | "spawn";
  index: number;
}

/** One message as the scheduler assigned it to a process. */
export interface Scheduled {
  process: string;
  nonce: number;
  epoch: number;
  timestamp: number;
  blockHeight: number;
  hashChain: string;
  assignmentId: string;
  item: Item;
  crankedFrom?: CrankOrigin;
  /**
   * A spawn whose Scheduler tag names another address that this network schedules itself (a listed
   * foreign scheduler, or the mainnet node's own address: devnet/hyperbeam.ts): that address.
   */
  standsInFor?: string;
  /**
   * Came through the mainnet node (its front door, or cranked from what did): what it emits is pushed by
   * the node, signed by its key. Absent: the legacy messenger's, which cranks with its own key.
   */
  viaNode?: true;
}

/** How a message was scheduled, beside the item itself (each recorded in its log record). */
export interface AssignOptions {
  crankedFrom?: CrankOrigin;
  standsInFor?: string;
  viaNode?: boolean;
}

export interface ProcessSchedule {
  id: string;
  item: Item;
  messages: Scheduled[];
  /** Highest nonce written durably; the compute unit evaluates only up to it. */
  durable: number;
  journal: Journal;
}

// Block heights advance every two minutes of scheduler time, as Arweave's do on average.
const BLOCK_MS = 120_000;
const GENESIS_MS = 1_700_000_000_000;
const GENESIS_HEIGHT = 1_300_000;
export const blockHeightAt = (timestamp: number) =>
  GENESIS_HEIGHT + Math.floor((timestamp - GENESIS_MS) / BLOCK_MS);

/** The next link of the hash chain, as AO's compute unit verifies it (servers/cu hashChain worker). */
export function nextHashChain(prevHashChain: string, prevAssignmentId?: string): string {
  const h = createHash("sha256");
  if (prevAssignmentId) h.update(Buffer.from(prevAssignmentId, "base64url"));
  h.update(Buffer.from(prevHashChain, "base64url"));
  return h.digest("base64url");
}

/** The ID of an assignment: a digest of what the scheduler decided (AO's are signed data items). */
export const assignmentIdOf = (process: string, nonce: number, itemId: string, timestamp: number) =>
  createHash("sha256").update(`${process}\n${nonce}\n${itemId}\n${timestamp}`).digest("base64url");

/**
 * Why a process's log is not the schedule the scheduler wrote, or undefined when it is: records that a
 * checksum cannot catch (a log written before checksums, a line copied from another log). Pure.
 */
export function scheduleFault(
  id: string,
  records: Scheduled[],
): { index: number; reason: string } | undefined {
  for (const [i, s] of records.entries()) {
    const reason = recordFault(id, i, s, records[i - 1]);
    if (reason) return { index: i, reason };
  }
  return undefined;
}

function recordFault(id: string, i: number, s: Scheduled, prev: Scheduled | undefined): string | undefined {
  if (typeof s !== "object" || s === null || typeof s.item?.id !== "string") return "not an assignment";
  if (s.nonce !== i) return `nonce ${s.nonce} where ${i} comes next`;
  if (s.process !== id) return `assigned to process ${s.process}, not ${id}`;
  if (i === 0 && s.item.id !== id) return `the first record is item ${s.item.id}, not the process ${id}`;
  if (s.hashChain !== (prev ? nextHashChain(prev.hashChain, prev.assignmentId) : nextHashChain(id)))
    return "its hash chain does not follow the record before it";
  if (s.assignmentId !== assignmentIdOf(id, i, s.item.id, s.timestamp))
    return "its assignment ID does not match its nonce, item and timestamp";
  return undefined;
}

/** A process log as read from disk, checked, before anything is changed. */
export interface LogScan {
  id: string;
  scan: JournalScan<Scheduled>;
}

const crankKey = (o: CrankOrigin) => `${o.process}/${o.nonce}/${o.kind}/${o.index}`;

/**
 * The scheduler unit: gives each message of a process the next nonce, a timestamp, a block height and a
 * link of the hash chain, and writes the assignment to the process's log (fsync) before it is acknowledged.
 */
export class Scheduler {
  readonly processes = new Map<string, ProcessSchedule>();
  private readonly byMessage = new Map<string, { process: string; nonce: number }>();
  private readonly cranked = new Set<string>();
  private readonly listeners: ((s: Scheduled) => void)[] = [];

  constructor(
    private readonly dir: string,
    readonly address: string,
  ) {
    mkdirDurably(dir);
  }

  /**
   * Reads and checks every process log in `dir` and changes nothing. Throws `JournalDamageError` (naming
   * the file, the record and the way to recover) when a log is damaged anywhere but in its last record.
   */
  static scanLogs(dir: string): LogScan[] {
    if (!existsSync(dir)) return [];
    const logs: LogScan[] = [];
    for (const id of readdirSync(dir).sort()) {
      const file = join(dir, id, "messages.log");
      if (!existsSync(file)) continue;
      const scan = Journal.scan<Scheduled>(file);
      Journal.assertUndamaged(scan);
      const fault = scheduleFault(id, scan.records);
      if (fault) {
        const place = scan.places[fault.index]!;
        throw new JournalDamageError(file, place, fault.reason, scan.records.length - fault.index - 1);
      }
      logs.push({ id, scan });
    }
    return logs;
  }

  /**
   * Takes the logs `scanLogs` read (after a restart or a crash): drops each torn last record, reporting
   * it, and indexes the rest.
   */
  load(logs = Scheduler.scanLogs(this.dir), report: (line: string) => void = () => {}): void {
    for (const { id, scan } of logs) {
      const file = scan.path;
      const dropped = Journal.dropTornTail(scan);
      if (dropped) report(dropped);
      if (scan.legacy > 0)
        report(`${file}: ${scan.legacy} records written before checksums, read as they are`);
      const messages = scan.records;
      const first = messages[0];
      if (!first) continue;
      const schedule: ProcessSchedule = {
        id,
        item: first.item,
        messages,
        durable: messages.length - 1,
        journal: new Journal(file, { acked: true }),
      };
      this.processes.set(id, schedule);
      for (const m of messages) this.index(m);
    }
  }

  onScheduled(listener: (s: Scheduled) => void): void {
    this.listeners.push(listener);
  }

  find(messageId: string): Scheduled | undefined {
    const at = this.byMessage.get(messageId);
    return at && this.processes.get(at.process)?.messages[at.nonce];
  }

  hasCranked(origin: CrankOrigin): boolean {
    return this.cranked.has(crankKey(origin));
  }

  /** Starts a process: its own data item is nonce 0 of its schedule (`opts`: see AssignOptions). */
  spawn(item: Item, opts: AssignOptions = {}): Promise<Scheduled> {
    const schedule: ProcessSchedule = {
      id: item.id,
      item,
      messages: [],
      durable: -1,
      // Creates the process's directory and log durably: its acknowledgement must survive a power loss.
      journal: new Journal(join(this.dir, item.id, "messages.log"), { acked: true }),
    };
    this.processes.set(item.id, schedule);
    return this.assign(schedule, item, opts);
  }

  schedule(processId: string, item: Item, opts: AssignOptions = {}): Promise<Scheduled> {
    const schedule = this.processes.get(processId);
    if (!schedule) throw new Error(`unknown process ${processId}`);
    return this.assign(schedule, item, opts);
  }

  /** The latest slot (nonce) of a process written durably: what HyperBEAM's `slot/current` answers. */
  currentSlot(processId: string): number {
    const schedule = this.processes.get(processId);
    if (!schedule) throw new NotFoundError(`process ${processId} is not known to this network`);
    return schedule.durable;
  }

  /**
   * `GET /su/<id>`: a process's assignments in timestamp order (a page of at most `limit`, between
   * `from` and `to` inclusive), or one message with its assignment.
   */
  read(id: string, q: { processId?: string; from?: number; to?: number; limit: number }) {
    const schedule = this.processes.get(id);
    if (schedule && (!q.processId || q.processId === id)) {
      const from = q.from ?? Number.NEGATIVE_INFINITY;
      const to = q.to ?? Number.POSITIVE_INFINITY;
      const rows = schedule.messages.filter(
        (s) => s.nonce <= schedule.durable && s.timestamp >= from && s.timestamp <= to,
      );
      const page = rows.slice(0, q.limit);
      return {
        page_info: { has_next_page: rows.length > page.length },
        edges: page.map((s) => ({ cursor: String(s.timestamp), node: suMessage(s, this.address) })),
      };
    }
    const s = this.find(id);
    if (!s || (q.processId && s.process !== q.processId)) throw new NotFoundError(`message ${id} not found`);
    return suMessage(s, this.address);
  }

  close(): void {
    for (const p of this.processes.values()) p.journal.close();
  }

  private async assign(
    schedule: ProcessSchedule,
    item: Item,
    { crankedFrom, standsInFor, viaNode }: AssignOptions,
  ): Promise<Scheduled> {
    // Everything up to the append happens in one synchronous step: nonces are gap-free and the log
    // holds them in order.
    const prev = schedule.messages.at(-1);
    const nonce = schedule.messages.length;
    const timestamp = Math.max(wallClock(), prev?.timestamp ?? 0);
    const hashChain = prev ? nextHashChain(prev.hashChain, prev.assignmentId) : nextHashChain(schedule.id);
    const assignmentId = assignmentIdOf(schedule.id, nonce, item.id, timestamp);
    const scheduled: Scheduled = {
      process: schedule.id,
      nonce,
      epoch: 0,
      timestamp,
      blockHeight: blockHeightAt(timestamp),
      hashChain,
      assignmentId,
      item,
      ...(crankedFrom ? { crankedFrom } : {}),
      ...(standsInFor ? { standsInFor } : {}),
      ...(viaNode ? { viaNode: true as const } : {}),
    };
    schedule.messages.push(scheduled);
    this.index(scheduled);
    await schedule.journal.append(scheduled);
    schedule.durable = Math.max(schedule.durable, nonce);
    for (const l of this.listeners) l(scheduled);
    return scheduled;
  }

  private index(s: Scheduled): void {
    this.byMessage.set(s.item.id, { process: s.process, nonce: s.nonce });
    if (s.crankedFrom) this.cranked.add(crankKey(s.crankedFrom));
  }
}

/** The message and its assignment, in the shape AO's scheduler serves them. */
export function suMessage(s: Scheduled, suAddress: string) {
  return {
    message: {
      id: s.item.id,
      owner: { address: s.item.owner, key: s.item.ownerKey },
      data: s.item.data,
      tags: s.item.tags,
      signature: s.item.signature,
      target: s.item.target,
      anchor: s.item.anchor,
    },
    assignment: {
      id: s.assignmentId,
      owner: { address: suAddress, key: "" },
      tags: [
        { name: "Process", value: s.process },
        { name: "Epoch", value: String(s.epoch) },
        { name: "Nonce", value: String(s.nonce) },
        { name: "Hash-Chain", value: s.hashChain },
        { name: "Block-Height", value: String(s.blockHeight).padStart(12, "0") },
        { name: "Timestamp", value: String(s.timestamp) },
        { name: "Message", value: s.item.id },
      ],
    },
  };
}

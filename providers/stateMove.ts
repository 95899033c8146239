/**
 * Moving a process's state into its replacement (STATE-TRANSFER.md), as steps over two
 * TransferClients and a backup store, all injected: every decision is tested without a network.
 *
 *   preflight (both ends speak the protocol, the wallet owns both, nothing else is moving)
 *   -> a rollback into a version 2 process: ask it to get the old process's confirmation (from then
 *      on it answers no read, and names the old process to read from)
 *   -> freeze the old process (writes refused with E_MOVED, naming the new one)
 *   -> backup: export every page, check the digest, write the file (reused when a rerun finds it)
 *   -> a rollback: wait until the new process holds the old one's confirmation of that digest
 *   -> import the pages the new process does not have yet (it says how many it has)
 *   -> verify: the new process reports the old one's digest and entry count
 *   -> open the new process
 *
 * Nothing is kept between runs but what the processes report and the backup file: a rerun after a
 * failure at any step reads both processes and continues where they are.
 */

import { namedError } from "./errors";
import type { Entry, TransferClient, TransferInfo } from "./stateTransfer";
import { DEFAULT_PAGE_BYTES, digestOf } from "./stateTransfer";

export const BACKUP_FORMAT = "ao-state-backup/1";

/** A verified export of the old process, written before any page is imported. */
export interface BackupFile {
  format: typeof BACKUP_FORMAT;
  from: string;
  to: string;
  createdAt: string;
  digest: string;
  entries: number;
  bytes: number;
  pageBytes: number;
  pages: Entry[][];
}

export interface BackupStore {
  /** The backup of this move, if an earlier run wrote one. */
  read(from: string, to: string): BackupFile | undefined;
  /** Writes it durably; returns where. */
  write(backup: BackupFile): string;
}

export interface MoveEnv {
  log(message: string): void;
  now(): Date;
  backup: BackupStore;
}

export interface MoveRequest {
  from: TransferClient;
  to: TransferClient;
  /** The deploying wallet's address: it must own both processes. */
  wallet: string;
  pageBytes?: number;
  /** A client for another process on the old one's network (the target of an unfinished earlier move). */
  clientFor(processId: string): TransferClient;
}

export interface MoveReport {
  from: string;
  to: string;
  digest: string;
  entries: number;
  bytes: number;
  pages: number;
  /** Pages imported by this run (the rest were there from an earlier one). */
  importedPages: number;
  /** The move had been completed (the new process opened) by an earlier run. */
  alreadyDone: boolean;
  backupFile?: string;
  /** From this run's freeze to the open; undefined when the freeze happened in an earlier run. */
  writesRefusedMs?: number;
}

/** A move that cannot start or continue: the message says why and what to do. */
export const moveRefused = (message: string) => namedError("MoveRefused", message);

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

/** A one-line size of a state, for logs and previews. */
export function describeSize(info: Pick<TransferInfo, "entries" | "bytes">, pageBytes = DEFAULT_PAGE_BYTES) {
  const pages = Math.max(1, Math.ceil(info.bytes / pageBytes));
  return `${info.entries} entries, ${kib(info.bytes)}, about ${pages} page${pages === 1 ? "" : "s"} of ${kib(pageBytes)}`;
}

/** Why `wallet` may not drive the state of a process reporting `info`, if it may not. */
export function ownerProblem(info: TransferInfo, processId: string, wallet: string): string | undefined {
  if (info.owner === wallet) return undefined;
  return `the deploying wallet ${wallet} does not own process ${processId} (its owner is ${info.owner}): deploy with the wallet that owns it`;
}

/** What a move finds at its two ends: go on (and whether to freeze), done already, or refuse. */
export function moveSituation(
  from: { id: string; info: TransferInfo },
  to: { id: string; info: TransferInfo },
  wallet: string,
  /** When `from` is frozen for a process other than `to`: that process, as it reports itself. */
  abandoned?: { id: string; info: TransferInfo },
): { action: "move"; freeze: boolean; unfreezeFirst: boolean; confirm: boolean } | { action: "done" } {
  for (const end of [from, to]) {
    const problem = ownerProblem(end.info, end.id, wallet);
    if (problem) throw moveRefused(problem);
  }
  const f = from.info;
  const t = to.info;
  const frozenForTo = f.status === "frozen" && f.successor === to.id;
  if (frozenForTo && t.status === "open" && t.predecessor === from.id) return { action: "done" };

  // The old process: open (freeze it now), or already frozen for this very move.
  if (f.status === "sealed")
    throw moveRefused(
      `process ${from.id} is sealed: it was never opened, so it holds nothing users wrote. Nothing to move from it.`,
    );
  // Frozen for another process: an earlier move that never finished (its target never opened) is
  // abandoned for this one; one that finished means the stack names the wrong process.
  let unfreezeFirst = false;
  if (f.status === "frozen" && !frozenForTo) {
    if (!abandoned || abandoned.id !== f.successor)
      throw moveRefused(`process ${from.id} is frozen for a move to ${f.successor}, which could not be read`);
    if (abandoned.info.status === "open" && abandoned.info.predecessor === from.id)
      throw moveRefused(
        `process ${from.id} was moved to ${f.successor}, which is open and holds its data: the stack should name ` +
          `${f.successor} (adoptProcessId=${f.successor}); moving ${from.id} elsewhere would fork the registry.`,
      );
    // Opened with this process's data once, and now moving it back (a rollback under way): this process
    // holds older data than its successor.
    if (abandoned.info.predecessor === from.id)
      throw moveRefused(
        `process ${f.successor} took ${from.id}'s data and is moving it back into ${from.id} (a rollback under way): ` +
          `finish that rollback first (the deploy that names ${from.id}); moving ${from.id} now would lose what ` +
          `was written in ${f.successor}.`,
      );
    unfreezeFirst = true;
  }

  // The new process: sealed (and importing nothing else), or the old process taking back its successor's state.
  const rollbackTarget = t.status === "frozen" && t.successor === from.id;
  if (t.status === "open")
    throw moveRefused(
      `process ${to.id} is already open and taking writes: data only moves into a sealed process (a new one, ` +
        `or a predecessor frozen for ${from.id}).`,
    );
  if (t.status === "frozen" && !rollbackTarget)
    throw moveRefused(
      `process ${to.id} is frozen for a move to ${t.successor}: it cannot take ${from.id}'s data.`,
    );
  if (t.status === "sealed" && t.import && t.import.from !== from.id)
    throw moveRefused(
      `process ${to.id} is importing from another process (${t.import.from}): it cannot take ${from.id}'s data too.`,
    );
  // A version 2 process takes back its successor's state only once the successor itself confirmed it
  // (STATE-TRANSFER.md); a version 1 one takes it on the owner's word.
  const confirm = rollbackTarget && t.protocol >= 2;
  return { action: "move", freeze: f.status === "open" || unfreezeFirst, unfreezeFirst, confirm };
}

/** Every page of the frozen process, checked against the digest it reports. */
async function exportAll(from: TransferClient, frozen: TransferInfo, pageBytes: number, log: MoveEnv["log"]) {
  const pages: Entry[][] = [];
  let cursor: string | null = null;
  do {
    const page = await from.exportPage(cursor, pageBytes);
    if (page.digest !== frozen.digest)
      throw moveRefused(
        `process ${from.processId} changed while frozen (digest ${page.digest}, was ${frozen.digest}): not moving it`,
      );
    if (page.entries.length === 0 && page.nextCursor !== null)
      throw new Error(`State-Export on ${from.processId} returned an empty page that is not the last`);
    if (page.entries.length) pages.push(page.entries);
    cursor = page.nextCursor;
    if (pages.length % 25 === 0 && cursor) log(`exported ${pages.length} pages from ${from.processId}`);
  } while (cursor !== null);
  // An empty state still moves as one (empty) page: the target records the import either way, and a
  // rollback target (frozen for `from`) is emptied and sealed by it.
  if (pages.length === 0) pages.push([]);
  const computed = digestOf(pages.flat());
  if (computed.digest !== frozen.digest || computed.entries !== frozen.entries)
    throw moveRefused(
      `the export of ${from.processId} does not match the digest it reports (${computed.entries} entries, digest ` +
        `${computed.digest}; it reports ${frozen.entries}, ${frozen.digest}): not moving it`,
    );
  return { pages, bytes: computed.bytes };
}

/** The move, from wherever an earlier run left it. */
export const moveStateWith =
  (env: MoveEnv) =>
  async (req: MoveRequest): Promise<MoveReport> => {
    const { from, to, wallet } = req;
    const pageBytes = req.pageBytes ?? DEFAULT_PAGE_BYTES;
    let fromInfo = await from.info();
    const toInfo = await to.info();
    const other =
      fromInfo.status === "frozen" && fromInfo.successor && fromInfo.successor !== to.processId
        ? { id: fromInfo.successor, info: await req.clientFor(fromInfo.successor).info() }
        : undefined;
    const situation = moveSituation(
      { id: from.processId, info: fromInfo },
      { id: to.processId, info: toInfo },
      wallet,
      other,
    );
    const base = { from: from.processId, to: to.processId };
    if (situation.action === "done") {
      env.log(`the move ${from.processId} -> ${to.processId} was completed by an earlier run`);
      return {
        ...base,
        digest: toInfo.digest,
        entries: toInfo.entries,
        bytes: toInfo.bytes,
        pages: 0,
        importedPages: 0,
        alreadyDone: true,
      };
    }

    let frozenAt: number | undefined;
    if (situation.confirm) {
      // Before the freeze: from here on the target refuses reads and names `from`, which answers them
      // until it is frozen and after (a client never meets two processes pointing at each other).
      await to.confirm(from.processId);
      env.log(
        `asked ${to.processId} to take back the state of ${from.processId}: it answers no read until it opens`,
      );
    }
    if (situation.unfreezeFirst) {
      await from.unfreeze();
      env.log(
        `abandoned the unfinished move of ${from.processId} to ${fromInfo.successor} (it never opened)`,
      );
    }
    if (situation.freeze) {
      fromInfo = (await from.freeze(to.processId)).info;
      frozenAt = env.now().getTime();
      env.log(
        `froze ${from.processId}: it answers reads, refuses writes with E_MOVED naming ${to.processId} (${describeSize(fromInfo, pageBytes)})`,
      );
    } else {
      env.log(`resuming the move ${from.processId} -> ${to.processId} (${from.processId} is frozen already)`);
    }

    // The backup: reused when an earlier run wrote it for this very state.
    let backup = env.backup.read(from.processId, to.processId);
    let backupFile: string | undefined;
    if (
      backup &&
      backup.digest === fromInfo.digest &&
      digestOf(backup.pages.flat()).digest === fromInfo.digest
    ) {
      env.log(
        `backup of ${from.processId} found (${backup.pages.length} pages, digest verified): reusing it`,
      );
    } else {
      const exported = await exportAll(from, fromInfo, pageBytes, env.log);
      backup = {
        format: BACKUP_FORMAT,
        from: from.processId,
        to: to.processId,
        createdAt: env.now().toISOString(),
        digest: fromInfo.digest,
        entries: fromInfo.entries,
        bytes: exported.bytes,
        pageBytes,
        pages: exported.pages,
      };
      backupFile = env.backup.write(backup);
      env.log(
        `backup written: ${backupFile} (${describeSize(fromInfo, pageBytes)}, digest ${fromInfo.digest} verified)`,
      );
    }

    if (situation.confirm) {
      await to.awaitConfirmation(from.processId, fromInfo.digest);
      env.log(
        `${from.processId} confirmed to ${to.processId} that it is frozen for it (digest ${fromInfo.digest})`,
      );
    }

    // Import what the new process does not have. A rollback target (frozen for `from`) starts over at 1.
    const current = await to.info();
    const have =
      current.status === "sealed" && current.import?.from === from.processId ? current.import.pages : 0;
    const total = backup.pages.length;
    for (let page = have + 1; page <= total; page++) {
      await to.importPage(from.processId, page, backup.pages[page - 1]!);
      env.log(`moved page ${page}/${total} into ${to.processId}`);
    }
    if (have > 0) env.log(`${have} of ${total} pages were already in ${to.processId}`);

    const moved = await to.info();
    if (moved.digest !== fromInfo.digest || moved.entries !== fromInfo.entries)
      throw moveRefused(
        `after the import, ${to.processId} reports ${moved.entries} entries (digest ${moved.digest}) but ` +
          `${from.processId} holds ${fromInfo.entries} (digest ${fromInfo.digest}): ${to.processId} stays sealed, ` +
          `${from.processId} keeps every record. Run the deploy again, or abandon the move (README).`,
      );
    await to.open(fromInfo.digest);
    const writesRefusedMs = frozenAt === undefined ? undefined : env.now().getTime() - frozenAt;
    env.log(
      `opened ${to.processId}: digest ${fromInfo.digest} matches (${fromInfo.entries} entries)` +
        (writesRefusedMs === undefined ? "" : `; writes were refused for ${writesRefusedMs} ms`),
    );
    return {
      ...base,
      digest: fromInfo.digest,
      entries: fromInfo.entries,
      bytes: backup.bytes,
      pages: total,
      importedPages: total - have,
      alreadyDone: false,
      ...(backupFile ? { backupFile } : {}),
      ...(writesRefusedMs === undefined ? {} : { writesRefusedMs }),
    };
  };

/**
 * Makes the process the stack names ready to serve, without moving anything: open a fresh (sealed)
 * process; unfreeze one whose move was abandoned, unless that move completed (its successor is open
 * with this process as predecessor: unfreezing would leave two open copies).
 */
export const settleProcessWith =
  (env: Pick<MoveEnv, "log">) =>
  async (
    process: TransferClient,
    wallet: string,
    successorOf: (id: string) => TransferClient,
  ): Promise<TransferInfo> => {
    const info = await process.info();
    const id = process.processId;
    if (info.status === "open") return info;
    const problem = ownerProblem(info, id, wallet);
    if (problem) throw moveRefused(problem);
    if (info.status === "sealed") {
      if (info.import)
        throw moveRefused(
          `process ${id} is in the middle of a move from ${info.import.from} (${info.import.pages} pages in): ` +
            `run the deploy that moves ${info.import.from} into it again, or point the stack at ${info.import.from}.`,
        );
      const opened = await process.open();
      env.log(`opened ${id} (a new process: nothing to move into it)`);
      return opened.info;
    }
    const successor = info.successor!;
    const next = await successorOf(successor).info();
    // A successor that opened with this process's data (its predecessor) holds everything this one has
    // and what was written since, whether it is still open or is moving it back (a rollback under way).
    if (next.predecessor === id && next.status === "open")
      throw moveRefused(
        `process ${id} was moved to ${successor}, which is open and holds its data: point the stack at ${successor} ` +
          `(adoptProcessId=${successor}), not at ${id}; unfreezing ${id} would leave two open copies.`,
      );
    if (next.predecessor === id)
      throw moveRefused(
        `process ${successor} took ${id}'s data and is now moving it back into ${id} (a rollback under way): run ` +
          `the deploy that moves it again to finish, or adopt ${successor} (adoptProcessId=${successor}) to abandon ` +
          `it; unfreezing ${id} would bring back its older data.`,
      );
    const unfrozen = await process.unfreeze();
    env.log(`unfroze ${id}: the move to ${successor} is abandoned (${successor} never opened)`);
    return unfrozen.info;
  };

import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { addressOf, type Jwk } from "../providers/wallet";
import { tagValue } from "./dataItem";
import { Journal } from "./journal";
import { type LogScan, Scheduler } from "./scheduler";
import { createWallet, readWallet } from "./wallet";

/**
 * Checks every process's `compute/<pid>/rolledback.log` (the compute unit's decisions, which cannot be
 * recomputed) and changes nothing: damage throws, as in a messages log.
 */
function checkRollbackLogs(computeDir: string): void {
  if (!existsSync(computeDir)) return;
  for (const id of readdirSync(computeDir).sort()) {
    const file = join(computeDir, id, "rolledback.log");
    if (existsSync(file)) Journal.assertUndamaged(Journal.scan(file));
  }
}

/**
 * What a data directory holds, read and checked before the network changes anything in it:
 * - `processes/<pid>/messages.log`: acknowledged messages; damage throws (see `Scheduler.scanLogs`);
 * - `compute/<pid>/rolledback.log`: messages the compute unit rolled back; damage throws likewise;
 * - each of those journals' `.acked` marker (devnet/ackMarker.ts): one that cannot be read throws;
 * - `wallet.json`: the network's key; a damaged one, a missing one beside existing processes, or one
 *   that is not the key those processes were scheduled with throws: nothing can recompute it.
 * Everything else is recomputed: results logs and snapshots (by the compute unit), the gateway's and
 * scheduler's indexes (in memory, from the logs), `network.json` (written at every start).
 */
export function openDataDir(dataDir: string): { wallet: Jwk; address: string; logs: LogScan[] } {
  const walletFile = join(dataDir, "wallet.json");
  const existing = readWallet(walletFile);
  const logs = Scheduler.scanLogs(join(dataDir, "processes"));
  checkRollbackLogs(join(dataDir, "compute"));
  const schedulers = new Set(
    logs.map((l) => l.scan.records[0]?.item.tags).map((t) => t && tagValue(t, "Scheduler")),
  );
  schedulers.delete(undefined);
  const [written] = schedulers;
  if (!existing && written)
    throw new Error(
      `${walletFile} is missing, but ${dataDir} holds processes scheduled by ${written}: restore that ` +
        "network's wallet.json (a new key would give the scheduler another address, and these processes " +
        "could no longer be reached). Nothing was changed.",
    );
  const wallet = existing ?? createWallet(walletFile);
  const address = addressOf(wallet.n);
  const foreign = [...schedulers].find((s) => s !== address);
  if (foreign)
    throw new Error(
      `${walletFile} is the key of scheduler ${address}, but ${dataDir} holds processes scheduled by ` +
        `${foreign}: restore the wallet.json this data directory was written with. Nothing was changed.`,
    );
  return { wallet, address, logs };
}

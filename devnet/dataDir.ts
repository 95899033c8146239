import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { addressOf, type Jwk } from "../providers/wallet";
import { tagValue } from "./dataItem";
import { Journal } from "./journal";
import { type LogScan, Scheduler } from "./scheduler";
import { createWallet, readWallet } from "./wallet";

/**
 * How the network's roles hold keys. On AO each role has its own: the mainnet node that answers
 * `/~meta@1.0/info/address` and signs what it pushes (push.forward.computer), the scheduler that signs
 * assignments (n_XZJh…, schedule.forward.computer), the legacy messenger that signs cranked messages
 * (fcoN_…). `distinct` gives each its own key; `shared` uses the scheduler's key for all three (the only
 * layout before role keys existed).
 */
export type KeyLayout = "distinct" | "shared";
export const KEY_LAYOUTS: readonly KeyLayout[] = ["distinct", "shared"];

/** Where each role's key lives in a data directory (`wallet.json`: the scheduler's, as before). */
export const KEY_FILES = {
  scheduler: "wallet.json",
  messenger: "messenger-wallet.json",
  node: "node-wallet.json",
} as const;
export type Role = keyof typeof KEY_FILES;

export interface RoleKey {
  jwk: Jwk;
  address: string;
}
export type NetworkKeys = Record<Role, RoleKey> & { layout: KeyLayout };

const keyOf = (jwk: Jwk): RoleKey => ({ jwk, address: addressOf(jwk.n) });

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
 * - `wallet.json`: the scheduler's key; a damaged one, a missing one beside existing processes, or one
 *   that is not the key those processes were scheduled with throws: nothing can recompute it;
 * - `messenger-wallet.json`, `node-wallet.json`: the other roles' keys (layout `distinct`); both or
 *   neither: one without the other throws (a new key would change an address processes trust).
 * Everything else is recomputed: results logs and snapshots (by the compute unit), the gateway's and
 * scheduler's indexes (in memory, from the logs), `network.json` (written at every start).
 * `keys` is the layout asked for: a new directory takes it (default `distinct`); an existing one keeps
 * its own, and asking for the other throws.
 */
export function openDataDir(
  dataDir: string,
  opts: { keys?: KeyLayout } = {},
): { wallet: Jwk; address: string; keys: NetworkKeys; logs: LogScan[] } {
  const walletFile = join(dataDir, KEY_FILES.scheduler);
  const existing = readWallet(walletFile);
  const logs = Scheduler.scanLogs(join(dataDir, "processes"));
  checkRollbackLogs(join(dataDir, "compute"));
  // A process whose scheduler this network stood in for (a listed foreign scheduler, or the node's
  // own address: devnet/hyperbeam.ts) names another address in its Scheduler tag.
  const schedulers = new Set(
    logs
      .map((l) => l.scan.records[0])
      .filter((first) => first && !first.standsInFor)
      .map((first) => first && tagValue(first.item.tags, "Scheduler")),
  );
  schedulers.delete(undefined);
  const [written] = schedulers;
  if (!existing && written)
    throw new Error(
      `${walletFile} is missing, but ${dataDir} holds processes scheduled by ${written}: restore that ` +
        "network's wallet.json (a new key would give the scheduler another address, and these processes " +
        "could no longer be reached). Nothing was changed.",
    );
  const layout = keyLayoutOf(dataDir, existing !== undefined, opts.keys);
  const wallet = existing ?? createWallet(walletFile);
  const address = addressOf(wallet.n);
  const foreign = [...schedulers].find((s) => s !== address);
  if (foreign)
    throw new Error(
      `${walletFile} is the key of scheduler ${address}, but ${dataDir} holds processes scheduled by ` +
        `${foreign}: restore the wallet.json this data directory was written with. Nothing was changed.`,
    );
  const scheduler = keyOf(wallet);
  const roleKey = (role: Exclude<Role, "scheduler">): RoleKey => {
    if (layout === "shared") return scheduler;
    const file = join(dataDir, KEY_FILES[role]);
    return keyOf(readWallet(file) ?? createWallet(file));
  };
  const keys: NetworkKeys = { layout, scheduler, messenger: roleKey("messenger"), node: roleKey("node") };
  return { wallet, address, keys, logs };
}

/**
 * The key layout of a data directory: what its files say, or for a new directory what was asked for.
 * Throws, changing nothing, when one role key is there without the other or the directory's layout is
 * not the one asked for.
 */
function keyLayoutOf(dataDir: string, hasSchedulerKey: boolean, asked: KeyLayout | undefined): KeyLayout {
  const present = (["messenger", "node"] as const).filter((r) => existsSync(join(dataDir, KEY_FILES[r])));
  if (present.length === 1) {
    const missing = present[0] === "messenger" ? "node" : "messenger";
    throw new Error(
      `${join(dataDir, KEY_FILES[missing])} is missing beside ${KEY_FILES[present[0]!]}: restore it (a new key ` +
        `would give the ${missing} another address, which processes on this network trust). Nothing was changed.`,
    );
  }
  const found: KeyLayout | undefined =
    present.length === 2 ? "distinct" : hasSchedulerKey ? "shared" : undefined;
  if (found && asked && found !== asked)
    throw new Error(
      found === "shared"
        ? `${dataDir} uses one key for the scheduler, the messenger and the node (written before role keys, or ` +
            `with --keys shared): its processes trust that address. Start a new data directory for distinct keys, ` +
            "or drop --keys distinct. Nothing was changed."
        : `${dataDir} gives the scheduler, the messenger and the node their own keys: it cannot run with one ` +
            "shared key. Start a new data directory for --keys shared, or drop it. Nothing was changed.",
    );
  return found ?? asked ?? "distinct";
}

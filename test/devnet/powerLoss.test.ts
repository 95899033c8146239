import { cpSync, existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startDevnet } from "../../devnet";
import { aoClient, startDevnetProcess, tempDataDir } from "../support/devnet";
import { simulatePowerLoss, TEARS, type Tear } from "../support/powerLoss";
import { testWallet } from "../support/wallets";

/**
 * An acknowledgement is sent only after what it acknowledges is durable. A network under a burst of
 * messages and spawns is killed (SIGKILL); then, for each way a power loss can leave the bytes that were
 * written but never synced (lost, half written, zeros, one stale byte, all there) and the marker write
 * that was not synced yet (lost or there), a copy of its data directory is rebuilt as the disk would hold
 * it (test/support/powerLoss.ts), and restarted. Every acknowledged message and spawn must be there, with
 * its result, and the start must not be refused: nothing acknowledged was damaged.
 */
const alice = testWallet("alice");
const SLOW = 300_000;
const COUNTER = `Count = Count or 0
Handlers.add("inc", "Inc", function(m) Count = Count + 1; m.reply({ Data = tostring(Count) }) end)
Handlers.add("get", "Get", function(m) m.reply({ Data = tostring(Count) }) end)`;

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

let killed: string;
let recorderLog: string;
let pid: string;
let acked: string[];
let spawned: string[];

beforeAll(async () => {
  killed = tempDataDir("power-loss-");
  dirs.push(killed);
  // A clean start and stop first: what exists before the burst is durable.
  const setup = await startDevnet({ dataDir: killed, port: 0 });
  pid = await aoClient(setup, alice.jwk).spawnWithCode(setup, COUNTER);
  await setup.stop();

  recorderLog = join(tempDataDir("power-loss-log-"), "events.jsonl");
  dirs.push(join(recorderLog, ".."));
  const net = await startDevnetProcess(killed, [], {
    nodeArgs: ["--require", join(__dirname, "../support/powerLossRecorder.cjs")],
    env: { POWER_LOSS_LOG: recorderLog, POWER_LOSS_DIR: killed },
  });
  acked = [];
  spawned = [];
  let stop = false;
  const senders = Array.from({ length: 6 }, async () => {
    const ao = aoClient(net, alice.jwk);
    while (!stop) {
      try {
        acked.push(
          await ao.message({ process: pid, signer: ao.signer, tags: [{ name: "Action", value: "Inc" }] }),
        );
      } catch {
        return;
      }
    }
  });
  // Spawns create a process's directory and log: their entries must be durable before the answer.
  const spawner = (async () => {
    const ao = aoClient(net, alice.jwk);
    while (!stop) {
      try {
        spawned.push(await ao.spawn({ module: net.moduleId, scheduler: net.schedulerId, signer: ao.signer }));
      } catch {
        return;
      }
    }
  })();
  while (acked.length < 60 || spawned.length < 3) await new Promise((r) => setTimeout(r, 5));
  net.child.kill("SIGKILL");
  stop = true;
  await Promise.all([...senders, spawner]);
}, SLOW);

async function resultStatus(base: string, id: string, process: string) {
  const res = await fetch(`${base}/result/${id}?process-id=${process}`);
  return { status: res.status, body: (await res.json()) as { Messages?: unknown[] } };
}

const cases = TEARS.flatMap((tear) =>
  (["synced", "latest"] as const).map((marker) => [tear, marker] as [Tear, "synced" | "latest"]),
);

describe("a power loss at a kill during a burst", () => {
  test.each(cases)(
    "unsynced bytes %s, unsynced marker write %s: every acknowledged message and spawn is there",
    async (tear, marker) => {
      const dir = tempDataDir("power-loss-copy-");
      dirs.push(dir);
      cpSync(killed, dir, { recursive: true });
      const rootOf = (p: string) => (p.startsWith(killed) ? dir + p.slice(killed.length) : p);
      const loss = simulatePowerLoss(recorderLog, { tear, marker, rootOf });
      const reports: string[] = [];
      const net = await startDevnet({ dataDir: dir, port: 0, log: (l) => reports.push(l) });
      try {
        const ao = aoClient(net, alice.jwk);
        for (const id of acked) {
          const r = await resultStatus(net.urls.cu, id, pid);
          expect(r.status, `acknowledged message ${id}`).toBe(200);
          expect(r.body.Messages).toHaveLength(1);
        }
        for (const id of spawned) {
          expect((await fetch(`${net.urls.su}/${id}`)).status, `acknowledged spawn ${id}`).toBe(200);
          expect(existsSync(join(dir, "processes", id, "messages.log"))).toBe(true);
        }
        const count = await ao.dryrun({ process: pid, tags: [{ name: "Action", value: "Get" }] });
        expect(Number(count.Messages[0].Data)).toBeGreaterThanOrEqual(acked.length);
        // Every journal whose unsynced bytes the loss left damaged was cut back, with a report.
        if (tear === "zeros" || tear === "flip")
          for (const t of loss.torn.filter((x) => x.path.endsWith("messages.log")))
            expect(reports.some((r) => r.includes(`${rootOf(t.path)}: dropped a torn tail`))).toBe(true);
      } finally {
        await net.stop();
      }
    },
    SLOW,
  );
});

/**
 * Zero-loss replacement at size: a registry of N skills (each with one version) is moved into a new
 * process through the local network, with the provider's own move (stateMove.ts) and client (one
 * signer), as `pulumi up` does it. Printed beside the baseline measured in the same run: the time it
 * took to register those skills one message at a time (16 in flight). Also the number of messages and
 * dry-runs, and how long writes were refused (freeze to open), next to the design card's 30-minute
 * recovery budget.
 *
 * BENCH_MOVE_SIZES (default "1000,10000") picks the sizes.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { startDevnet } from "../devnet";
import { fileBackupStore } from "../providers/backupStore";
import { bundleLua } from "../providers/bundle";
import { pipelineEnv } from "../providers/effects";
import { wrapWithFooter } from "../providers/footer";
import { sha256Hex } from "../providers/hash";
import { moveStateWith } from "../providers/stateMove";
import { transferClient } from "../providers/stateTransfer";
import { aoClient } from "../test/support/devnet";
import { testWallet } from "../test/support/wallets";
import { figure, section } from "./report";

const SIZES = (process.env.BENCH_MOVE_SIZES ?? "1000,10000").split(",").map(Number);
const RECOVERY_BUDGET_MS = 30 * 60 * 1000;
const IN_FLIGHT = 16;

export async function run(): Promise<void> {
  const dataDir = mkdtempSync(path.join(tmpdir(), "bench-move-"));
  const net = await startDevnet({ port: 0, dataDir });
  try {
    const owner = testWallet("bench-move-owner");
    const c = aoClient(net, owner.jwk);
    const raw = bundleLua(path.join(__dirname, "..", "ao-process", "registry.lua")).code;
    const code = wrapWithFooter(raw, { sha256: sha256Hex(raw), deploymentId: "bench" });
    const tags = [{ name: "Authority", value: net.authority }];
    const send = async (pid: string, action: string, data: unknown) => {
      const r = await c.send(pid, [{ name: "Action", value: action }], JSON.stringify(data));
      const body = JSON.parse(r.Messages?.[0]?.Data ?? "{}") as { ok?: boolean; error?: unknown };
      if (!body.ok) throw new Error(`${action}: ${JSON.stringify(body.error ?? r.Error)}`);
    };
    const env = pipelineEnv(net.urls, owner.jwk);
    const clientFor = (id: string) => transferClient(env, net.urls, id, owner.address);

    for (const size of SIZES) {
      section(`moving a registry of ${size} skills into a replacement (local network, real aos)`);
      const from = await c.spawnWithCode(net, code, tags);
      await send(from, "State-Open", {});
      const t0 = performance.now();
      let next = 0;
      const worker = async () => {
        for (let i = next++; i < size; i = next++) {
          await send(from, "Register-Skill", {
            name: `skill-${i.toString(36)}`,
            description: `Skill number ${i}, for agents that need a ${i % 2 ? "parser" : "client"}`,
            tags: ["bench", `t${i % 10}`],
            version: "1.0.0",
            txId: `tx${i}`.padEnd(43, "_"),
            contentHash: i.toString(16).padStart(64, "0"),
          });
        }
      };
      await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
      const registerMs = performance.now() - t0;

      const to = await c.spawnWithCode(net, code, tags);
      const backupDir = mkdtempSync(path.join(tmpdir(), "bench-move-backup-"));
      const move = moveStateWith({
        log: () => {},
        now: () => new Date(),
        backup: fileBackupStore(backupDir),
      });
      const t1 = performance.now();
      const report = await move({
        from: clientFor(from),
        to: clientFor(to),
        wallet: owner.address,
        clientFor,
      });
      const moveMs = performance.now() - t1;
      rmSync(backupDir, { recursive: true, force: true });

      const registration = {
        name: `registering them (${size} messages, ${IN_FLIGHT} in flight)`,
        value: registerMs / 1000,
      };
      figure(
        `move: ${report.entries} entries, ${(report.bytes / 2 ** 20).toFixed(1)} MiB`,
        moveMs / 1000,
        "s",
        {
          baseline: registration,
        },
      );
      figure("  messages: State-Import pages + freeze + open", report.pages + 2, "msgs", {
        baseline: { name: "Register-Skill messages", value: size },
      });
      figure("  dry-runs: export pages + State-Info reads", report.pages + 4, "reads");
      figure("  writes refused (freeze to open)", (report.writesRefusedMs ?? Number.NaN) / 1000, "s", {
        baseline: { name: "recovery budget", value: RECOVERY_BUDGET_MS / 1000 },
      });
    }
  } finally {
    await net.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

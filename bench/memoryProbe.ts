import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDevnet } from "../devnet";
import { aoClient } from "../test/support/devnet";
import { testWallet } from "../test/support/wallets";

// Run in a child process by devnet.bench.ts, so that each figure starts from a fresh heap:
// node [--experimental-wasm-memory64 on Node 22] --expose-gc --import tsx bench/memoryProbe.ts <processes> <maxLive>
const [count, maxLive] = process.argv.slice(2).map(Number) as [number, number];
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), "bench-mem-"));
  const net = await startDevnet({ port: 0, dataDir, maxLive });
  const ao = aoClient(net, testWallet("alice").jwk);
  const one = () => ao.spawnWithCode(net, "X = 1");
  await one();
  gc();
  const before = process.memoryUsage().rss;
  for (let i = 1; i < count; i++) await one();
  await net.settle();
  gc();
  const after = process.memoryUsage().rss;
  console.log(JSON.stringify({ before, after, live: net.liveProcesses() }));
  await net.stop();
  rmSync(dataDir, { recursive: true, force: true });
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);

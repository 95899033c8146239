/**
 * What dry-runs that loop until the compute deadline cost a real write to the same process: the latency of
 * a message and its result while N = 1, 4 and 16 such dry-runs (claiming the owner, from four peers on
 * loopback) keep coming, beside the same write with none, through the legacy `/dry-run` and the mainnet
 * route. Then what the dry-run instances cost in memory.
 */

import { rmSync } from "node:fs";
import { request } from "node:http";
import { startDevnet } from "../devnet";
import { signItem } from "../devnet/dataItem";
import { aoClient, tempDataDir } from "../test/support/devnet";
import { testWallet } from "../test/support/wallets";
import { figure, median, section } from "./report";

const alice = testWallet("alice");
const COUNTER = `Count = Count or 0
Handlers.add("inc", "Inc", function(m) Count = Count + 1; m.reply({ Data = tostring(Count) }) end)`;
const DEADLINE_MS = 5000;
const WRITES = 15;
const PEERS = ["127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4"];

function post(url: string, body: Buffer | string, headers: Record<string, string>, localAddress: string) {
  return new Promise<{ status: number; retryAfter: number }>((resolve, reject) => {
    const req = request(url, { method: "POST", headers, localAddress, agent: false }, (res) => {
      res.resume();
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, retryAfter: Number(res.headers["retry-after"] ?? 0) }),
      );
    });
    req.on("error", reject);
    req.end(body);
  });
}

type Route = "legacy" | "mainnet";

/** One looping dry-run, sent again as soon as it is answered (after Retry-After when refused). */
async function loopDryRuns(
  net: Awaited<ReturnType<typeof startDevnet>>,
  pid: string,
  route: Route,
  peer: string,
  stop: { now: boolean },
  refused: { count: number },
): Promise<void> {
  while (!stop.now) {
    let a: { status: number; retryAfter: number };
    if (route === "legacy") {
      const body = JSON.stringify({
        Target: pid,
        Owner: alice.address,
        Tags: [{ name: "Action", value: "Eval" }],
        Data: "while true do end",
      });
      a = await post(
        `${net.urls.cu}/dry-run?process-id=${pid}`,
        body,
        { "Content-Type": "application/json" },
        peer,
      );
    } else {
      const { raw } = await signItem(alice.jwk, {
        data: "while true do end",
        tags: [{ name: "Type", value: "Message" }],
        target: pid,
      });
      a = await post(
        `${net.urls.node}/${pid}~process@1.0/as=execution/compute&Action=Eval`,
        raw,
        { "Content-Type": "application/ans104", "codec-device": "ans104@1.0" },
        peer,
      );
    }
    if (a.status === 429 || a.status === 503) {
      refused.count++;
      await new Promise((r) => setTimeout(r, a.retryAfter * 1000));
    }
  }
}

const rssMiB = () => process.memoryUsage().rss / 2 ** 20;

/**
 * Resident memory added by four processes (their live instances), then by one dry-run instance for each
 * (a dry-run that returns): the network runs in this process, so its instances are in this RSS.
 */
async function memory(net: Awaited<ReturnType<typeof startDevnet>>): Promise<void> {
  section("memory: live and dry-run instances (resident, this process)");
  const ao = aoClient(net, alice.jwk);
  const before = rssMiB();
  const pids: string[] = [];
  for (let i = 0; i < 4; i++) pids.push(await ao.spawnWithCode(net, COUNTER));
  const withLive = rssMiB();
  for (const pid of pids) await ao.dryrun({ process: pid, tags: [{ name: "Action", value: "Inc" }] });
  const instances = net.dryRunInstances();
  const withDryRuns = rssMiB();
  figure("resident size added per live instance (4 processes)", (withLive - before) / 4, "MiB");
  figure(
    `resident size added per dry-run instance (${instances} instances)`,
    (withDryRuns - withLive) / instances,
    "MiB",
  );
}

export async function run(): Promise<void> {
  section(`dry-runs that loop (CPU deadline ${DEADLINE_MS} ms) beside writes to the same process`);
  const dataDir = tempDataDir("bench-dry-runs-");
  const net = await startDevnet({ dataDir, port: 0, computeDeadlineMs: DEADLINE_MS });
  try {
    const ao = aoClient(net, alice.jwk);
    const pid = await ao.spawnWithCode(net, COUNTER);
    const writeMs = async () => {
      const ms: number[] = [];
      for (let i = 0; i < WRITES; i++) {
        const t0 = performance.now();
        await ao.send(pid, [{ name: "Action", value: "Inc" }]);
        ms.push(performance.now() - t0);
      }
      return { median: median(ms), max: Math.max(...ms) };
    };
    await writeMs(); // warm-up
    const none = await writeMs();
    figure("write (message + result), no dry-run, median", none.median, "ms");
    figure("write (message + result), no dry-run, slowest of 15", none.max, "ms");
    for (const route of ["legacy", "mainnet"] as Route[]) {
      for (const n of [1, 4, 16]) {
        const stop = { now: false };
        const refused = { count: 0 };
        const loops = Array.from({ length: n }, (_, i) =>
          loopDryRuns(net, pid, route, PEERS[i % PEERS.length]!, stop, refused),
        );
        // Until the dry-runs run on their instances (started, caught up, looping).
        const t0 = performance.now();
        while (net.dryRunInstances() < Math.min(n, 2) && performance.now() - t0 < 30_000)
          await new Promise((r) => setTimeout(r, 50));
        await new Promise((r) => setTimeout(r, 1500));
        const loaded = await writeMs();
        stop.now = true;
        figure(`write, ${n} looping ${route} dry-run(s), median`, loaded.median, "ms", {
          baseline: { name: "none", value: none.median },
        });
        figure(`write, ${n} looping ${route} dry-run(s), slowest of 15`, loaded.max, "ms", {
          baseline: { name: "none", value: none.max },
        });
        await Promise.all(loops);
        if (refused.count > 0) figure(`  dry-runs refused (429/503) meanwhile`, refused.count, "");
      }
    }
    await memory(net);
  } finally {
    await net.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

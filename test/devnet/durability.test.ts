import { rmSync } from "node:fs";
import { afterAll, describe, expect, test } from "vitest";
import { aoClient, graphql, startDevnetProcess, tempDataDir, withDevnet } from "../support/devnet";
import { testWallet } from "../support/wallets";

const alice = testWallet("alice");
const bob = testWallet("bob");
const carol = testWallet("carol");
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const COUNTER = `Count = Count or 0
Handlers.add("inc", "Inc", function(m) Count = Count + 1; m.reply({ Data = tostring(Count) }) end)
Handlers.add("get", "Get", function(m) m.reply({ Data = tostring(Count) }) end)`;

type Net = Awaited<ReturnType<typeof withDevnet>>;

async function deployCounter(net: Pick<Net, "urls" | "moduleId" | "schedulerId">, jwk = alice.jwk) {
  return aoClient(net, jwk).spawnWithCode(net, COUNTER);
}

async function count(net: Pick<Net, "urls">, pid: string): Promise<number> {
  const ao = aoClient(net, alice.jwk);
  const d = await ao.dryrun({ process: pid, tags: [{ name: "Action", value: "Get" }] });
  return Number(d.Messages[0].Data);
}

async function nonces(net: Pick<Net, "urls">, pid: string): Promise<number[]> {
  const res = await fetch(`${net.urls.su}/${pid}?limit=1000`);
  const body = (await res.json()) as {
    edges: { node: { assignment: { tags: { name: string; value: string }[] } } }[];
  };
  return body.edges.map((e) => Number(e.node.assignment.tags.find((t) => t.name === "Nonce")!.value));
}

describe("concurrency", () => {
  test("concurrent spawns and messages from several wallets lose nothing and leave nonces gap-free", async () => {
    const net = await withDevnet();
    try {
      const wallets = [alice, bob, carol];
      const pids = await Promise.all(wallets.map((w) => deployCounter(net, w.jwk)));
      // Every wallet sends to every process at once.
      const sends = wallets.flatMap((w) =>
        pids.flatMap((pid) =>
          Array.from({ length: 5 }, async () => {
            const ao = aoClient(net, w.jwk);
            return {
              pid,
              id: await ao.message({
                process: pid,
                signer: ao.signer,
                tags: [{ name: "Action", value: "Inc" }],
              }),
            };
          }),
        ),
      );
      const sent = await Promise.all(sends);
      await net.settle();
      for (const pid of pids) {
        expect(await count(net, pid)).toBe(15);
        const ns = await nonces(net, pid);
        expect(ns).toEqual(Array.from({ length: ns.length }, (_, i) => i));
        expect(ns).toHaveLength(2 + 15); // spawn, Eval, 15 messages
      }
      const ao = aoClient(net, alice.jwk);
      const replies = await Promise.all(sent.map((s) => ao.result({ process: s.pid, message: s.id })));
      for (const pid of pids) {
        const values = replies.filter((_, i) => sent[i]!.pid === pid).map((r) => Number(r.Messages[0].Data));
        expect(values.sort((a, b) => a - b)).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
      }
    } finally {
      await net.cleanup();
    }
  });
});

describe("persistence", () => {
  test("after a restart every process answers as before: state, nonces, results", async () => {
    const dataDir = tempDataDir();
    dirs.push(dataDir);
    const first = await withDevnet({ dataDir });
    const pid = await deployCounter(first);
    const ao = aoClient(first, alice.jwk);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push(
        await ao.message({ process: pid, signer: ao.signer, tags: [{ name: "Action", value: "Inc" }] }),
      );
    const before = await Promise.all(ids.map((id) => ao.result({ process: pid, message: id })));
    const noncesBefore = await nonces(first, pid);
    await first.stop();

    const second = await withDevnet({ dataDir });
    try {
      expect(await count(second, pid)).toBe(5);
      // The gateway indexes the logs again: the process and its messages are found by ID.
      const found = await graphql<{ transactions: { edges: { node: { id: string } }[] } }>(
        second,
        "query($ids: [ID!]!) { transactions(ids: $ids) { edges { node { id } } } }",
        { ids: [pid, ...ids] },
      );
      expect(found.transactions.edges.map((e) => e.node.id).sort()).toEqual([pid, ...ids].sort());
      expect(await nonces(second, pid)).toEqual(noncesBefore);
      const ao2 = aoClient(second, alice.jwk);
      const after = await Promise.all(ids.map((id) => ao2.result({ process: pid, message: id })));
      expect(after).toEqual(before);
      const id = await ao2.message({
        process: pid,
        signer: ao2.signer,
        tags: [{ name: "Action", value: "Inc" }],
      });
      expect((await ao2.result({ process: pid, message: id })).Messages[0].Data).toBe("6");
    } finally {
      await second.stop();
    }
  });

  test("idle processes are evicted to snapshots and come back with their state", async () => {
    const net = await withDevnet({ maxLive: 2 });
    try {
      const pids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const pid = await deployCounter(net);
        const ao = aoClient(net, alice.jwk);
        for (let k = 0; k <= i; k++) await ao.send(pid, [{ name: "Action", value: "Inc" }]);
        pids.push(pid);
      }
      expect(net.liveProcesses()).toBeLessThanOrEqual(2);
      for (const [i, pid] of pids.entries()) expect(await count(net, pid)).toBe(i + 1);
      expect(net.liveProcesses()).toBeLessThanOrEqual(2);
    } finally {
      await net.cleanup();
    }
  });
});

describe("crash safety", () => {
  test("kill -9 in the middle of a load loses no acknowledged message", async () => {
    const dataDir = tempDataDir();
    dirs.push(dataDir);
    const { child, ...net } = await startDevnetProcess(dataDir);
    const pid = await deployCounter(net);
    const acked: string[] = [];
    // Four senders keep messages in flight; the kill lands while some are unanswered.
    const senders = Array.from({ length: 4 }, async () => {
      const ao = aoClient(net, alice.jwk);
      for (;;) {
        try {
          acked.push(
            await ao.message({ process: pid, signer: ao.signer, tags: [{ name: "Action", value: "Inc" }] }),
          );
        } catch {
          return;
        }
      }
    });
    while (acked.length < 40) await new Promise((r) => setTimeout(r, 10));
    child.kill("SIGKILL");
    await Promise.all(senders);
    const ackedAtKill = [...acked];

    const restarted = await startDevnetProcess(dataDir);
    try {
      const net2 = { urls: restarted.urls };
      const ao = aoClient(net2, alice.jwk);
      const results = await Promise.all(ackedAtKill.map((id) => ao.result({ process: pid, message: id })));
      expect(results.every((r) => r.Messages?.length === 1)).toBe(true);
      const ns = await nonces(net2, pid);
      expect(ns).toEqual(Array.from({ length: ns.length }, (_, i) => i));
      // Every counted message is one that was scheduled: the counter equals the messages after the Eval.
      expect(await count(net2, pid)).toBe(ns.length - 2);
      expect(ns.length - 2).toBeGreaterThanOrEqual(ackedAtKill.length);
    } finally {
      await restarted.stop();
    }
  });
});

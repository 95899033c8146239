import { spawnSync } from "node:child_process";
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startDevnet } from "../../devnet";
import {
  aoClient,
  devnetCliArgs,
  graphql,
  startDevnetProcess,
  tempDataDir,
  withDevnet,
} from "../support/devnet";
import { testWallet } from "../support/wallets";

/**
 * Process compute limits: a message or dry-run that computes too long is stopped at the network's
 * compute deadline with an error result, the process keeps the state it had before, the rest of the
 * network answers meanwhile, and no restart or replay runs into the same hang again.
 */
const alice = testWallet("alice");
const DEADLINE_MS = 2000;
/** Each of these tests waits out deadlines and restarts networks: minutes on a busy two-core machine. */
const SLOW = 180_000;
const dirs: string[] = [];

const CODE = `Secret = "kept"
Handlers.add("get", "Get", function(m) m.reply({ Data = Secret }) end)
Handlers.add("set", "Set", function(m) Secret = m.Tags.Value end)`;

/** An endless loop, run by the owner's Eval after a change that must not outlive it. */
const LOOP = `Secret = "changed by the loop"; while true do end`;
/** aos 2.0 decodes the Data of a message with this Content-Type before any handler runs. */
const JSON_TAGS = [
  { name: "Content-Type", value: "application/json" },
  { name: "Action", value: "Set" },
  { name: "Value", value: "from the bomb" },
];

type Net = Awaited<ReturnType<typeof withDevnet>>;
type Urls = Pick<Net, "urls">;

async function secret(net: Urls, pid: string): Promise<string | undefined> {
  const d = await aoClient(net, alice.jwk).dryrun({ process: pid, tags: [{ name: "Action", value: "Get" }] });
  if (d.Error) throw new Error(`Get failed: ${String(d.Error)}`);
  return d.Messages[0]?.Data;
}

/** Sends a message and returns its ID and a promise of its result that records when it settled. */
async function sendWatched(net: Urls, pid: string, tags: { name: string; value: string }[], data: string) {
  const ao = aoClient(net, alice.jwk);
  const id = await ao.message({ process: pid, signer: ao.signer, tags, data });
  const watch = { settled: false };
  const result = ao.result({ process: pid, message: id }).finally(() => {
    watch.settled = true;
  });
  return { id, result, watch };
}

/** What the rest of the network must keep answering while one process computes. */
async function othersAnswer(net: Urls, otherPid: string): Promise<void> {
  expect(await secret(net, otherPid)).toBe("kept");
  const data = await graphql<{ transactions: { edges: unknown[] } }>(
    net,
    `query($ids: [ID!]) { transactions(ids: $ids) { edges { node { id } } } }`,
    { ids: [otherPid] },
  );
  expect(data.transactions.edges).toHaveLength(1);
  const set = await aoClient(net, alice.jwk).send(otherPid, [{ name: "Action", value: "Get" }]);
  expect(set.Messages[0]?.Data).toBe("kept");
}

async function dryRunOverHttp(net: Urls, pid: string, body: unknown): Promise<{ Error?: string }> {
  const res = await fetch(`${net.urls.cu}/dry-run?process-id=${pid}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as { Error?: string };
}

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("a process that computes past the deadline", () => {
  let net: Net;
  let a: string;
  let b: string;
  beforeAll(async () => {
    net = await withDevnet({ computeDeadlineMs: DEADLINE_MS }, { expectDeadlineHits: true });
    const ao = aoClient(net, alice.jwk);
    [a, b] = await Promise.all([ao.spawnWithCode(net, CODE), ao.spawnWithCode(net, CODE)]);
  });
  afterAll(async () => {
    await net?.cleanup();
  });

  test(
    "JSON that aos cannot decode, nested thousands deep, gets an error result; the process keeps its state",
    async () => {
      // The old network hung for good on the second message (the 4,000-deep one, after another that failed).
      for (const depth of [3000, 4000, 20_000]) {
        const r = await aoClient(net, alice.jwk).send(a, JSON_TAGS, "[".repeat(depth));
        expect(String(r.Error)).toMatch(/unexpected character|compute deadline/);
        expect(await secret(net, a)).toBe("kept");
      }
      await othersAnswer(net, b);
      const next = await aoClient(net, alice.jwk).send(a, [{ name: "Action", value: "Get" }]);
      expect(next.Messages[0]?.Data).toBe("kept");
    },
    SLOW,
  );

  test(
    "a message that loops is stopped, and what it changed before the loop is undone",
    async () => {
      const loop = await sendWatched(net, a, [{ name: "Action", value: "Eval" }], LOOP);
      // While A computes: another process (dry-run and message), GraphQL; all before A's result.
      await othersAnswer(net, b);
      expect(loop.watch.settled).toBe(false);
      const r = await loop.result;
      expect(String(r.Error)).toMatch(new RegExp(`compute deadline of ${DEADLINE_MS} ms`));
      expect(net.deadlineHits()).toContainEqual({ process: a, nonce: expect.any(Number), ms: DEADLINE_MS });
      // A keeps the state from before the message, and answers the next one.
      expect(await secret(net, a)).toBe("kept");
      const next = await aoClient(net, alice.jwk).send(a, [{ name: "Action", value: "Get" }]);
      expect(next.Messages[0]?.Data).toBe("kept");
    },
    SLOW,
  );

  test(
    "a dry-run that loops (claiming the owner) gets an error result and blocks nothing",
    async () => {
      const hitsBefore = net.deadlineHits().length;
      const watch = { settled: false };
      const loop = dryRunOverHttp(net, a, {
        Owner: alice.address,
        Tags: [{ name: "Action", value: "Eval" }],
        Data: "while true do end",
      }).finally(() => {
        watch.settled = true;
      });
      await othersAnswer(net, b);
      expect(watch.settled).toBe(false);
      expect((await loop).Error).toMatch(new RegExp(`compute deadline of ${DEADLINE_MS} ms`));
      expect(net.deadlineHits().slice(hitsBefore)).toEqual([{ process: a, ms: DEADLINE_MS }]);
      expect(await secret(net, a)).toBe("kept");
    },
    SLOW,
  );
});

/** About 0.8 s of CPU time on this module (0.2 s per 10 million turns): past 200 ms, well within 10 s. */
const BOUNDED_LOOP = "local n = 0; for i = 1, 50000000 do n = n + i end; Secret = 'looped'";

describe("the deadline is configurable", () => {
  test(
    "startDevnet's computeDeadlineMs stops what the default deadline lets finish",
    async () => {
      const dataDir = tempDataDir();
      dirs.push(dataDir);
      const roomy = await withDevnet({ dataDir });
      const ao = aoClient(roomy, alice.jwk);
      const [pid, other] = await Promise.all([ao.spawnWithCode(roomy, CODE), ao.spawnWithCode(roomy, CODE)]);
      expect((await ao.send(other, [{ name: "Action", value: "Eval" }], BOUNDED_LOOP)).Error).toBeUndefined();
      expect(await secret(roomy, other)).toBe("looped");
      await roomy.cleanup();

      const tight = await withDevnet({ dataDir, computeDeadlineMs: 200 }, { expectDeadlineHits: true });
      try {
        const r = await aoClient(tight, alice.jwk).send(
          pid,
          [{ name: "Action", value: "Eval" }],
          BOUNDED_LOOP,
        );
        expect(String(r.Error)).toMatch(/compute deadline of 200 ms/);
        expect(await secret(tight, pid)).toBe("kept");
      } finally {
        await tight.cleanup();
      }
    },
    SLOW,
  );

  test("a deadline that is not a positive whole number of milliseconds is refused, naming the fix", async () => {
    const dataDir = tempDataDir();
    dirs.push(dataDir);
    for (const bad of [0, -5, 1.5, Number.NaN]) {
      await expect(startDevnet({ dataDir, port: 0, computeDeadlineMs: bad })).rejects.toThrow(
        /computeDeadlineMs .*: use a positive whole number of milliseconds/,
      );
    }
    const cli = spawnSync(process.execPath, devnetCliArgs(dataDir, ["--compute-deadline-ms", "soon"]), {
      encoding: "utf8",
    });
    expect(cli.status).toBe(1);
    expect(cli.stderr).toContain("--compute-deadline-ms soon: use a positive whole number of milliseconds");
  });
});

describe("a stopped message is never evaluated again", () => {
  test(
    "a process restored by replay (after eviction) skips the stopped and the failed messages",
    async () => {
      // One live instance: using B evicts A, and A's next use restores it by replaying its log.
      const net = await withDevnet(
        { computeDeadlineMs: DEADLINE_MS, maxLive: 1 },
        { expectDeadlineHits: true },
      );
      try {
        const ao = aoClient(net, alice.jwk);
        const a = await ao.spawnWithCode(net, CODE);
        const loop = await ao.send(a, [{ name: "Action", value: "Eval" }], LOOP);
        expect(String(loop.Error)).toMatch(/compute deadline/);
        // Malformed JSON that the decoder rejects quickly: aos fails the whole message.
        const malformed = await ao.send(a, JSON_TAGS, "[".repeat(100));
        expect(malformed.Error).toBeDefined();
        const b = await ao.spawnWithCode(net, CODE);
        expect(await secret(net, b)).toBe("kept");
        expect(await secret(net, a)).toBe("kept");
        expect(net.deadlineHits()).toEqual([{ process: a, nonce: 2, ms: DEADLINE_MS }]);
      } finally {
        await net.cleanup();
      }
    },
    SLOW,
  );

  test(
    "after kill -9 and a restart the network does not hang, and the skip stays",
    async () => {
      const dataDir = tempDataDir();
      dirs.push(dataDir);
      const args = ["--compute-deadline-ms", String(DEADLINE_MS)];
      const first = await startDevnetProcess(dataDir, args);
      const ao = aoClient(first, alice.jwk);
      const a = await ao.spawnWithCode(first, CODE);
      const loopId = await ao.message({
        process: a,
        signer: ao.signer,
        tags: [{ name: "Action", value: "Eval" }],
        data: LOOP,
      });
      const stopped = await ao.result({ process: a, message: loopId });
      expect(String(stopped.Error)).toMatch(/compute deadline/);
      first.child.kill("SIGKILL");
      await new Promise((r) => first.child.once("exit", r));

      const second = await startDevnetProcess(dataDir, args);
      try {
        // The restart replays A's log: a replay that evaluated the message again would hang, or fail.
        expect(await secret(second, a)).toBe("kept");
        const again = await aoClient(second, alice.jwk).result({ process: a, message: loopId });
        expect(again.Error).toBe(stopped.Error);
        const next = await aoClient(second, alice.jwk).send(a, [{ name: "Action", value: "Get" }]);
        expect(next.Messages[0]?.Data).toBe("kept");
      } finally {
        await second.stop();
      }
    },
    SLOW,
  );

  test(
    "a skip outlives its results log: the recomputation follows the journal and never decides again",
    async () => {
      const dataDir = tempDataDir();
      dirs.push(dataDir);
      const tight = await withDevnet({ dataDir, computeDeadlineMs: 200 }, { expectDeadlineHits: true });
      const ao = aoClient(tight, alice.jwk);
      const a = await ao.spawnWithCode(tight, CODE);
      const loopId = await ao.message({
        process: a,
        signer: ao.signer,
        tags: [{ name: "Action", value: "Eval" }],
        data: BOUNDED_LOOP,
      });
      const stopped = await ao.result({ process: a, message: loopId });
      expect(String(stopped.Error)).toMatch(/compute deadline of 200 ms/);
      await tight.cleanup();

      // Results and snapshots are recomputable: without them the restart evaluates the log from nonce 0,
      // under a deadline that BOUNDED_LOOP meets. Deciding again would run it and change the state.
      const dir = join(dataDir, "compute", a);
      for (const f of readdirSync(dir))
        if (f === "results.log" || f.startsWith("snapshot-")) rmSync(join(dir, f));
      const roomy = await withDevnet({ dataDir });
      try {
        expect(await secret(roomy, a)).toBe("kept");
        const again = await aoClient(roomy, alice.jwk).result({ process: a, message: loopId });
        expect(again.Error).toBe(stopped.Error);
      } finally {
        await roomy.cleanup();
      }
    },
    SLOW,
  );
});

import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { request } from "node:http";
import { getPriority } from "node:os";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startDevnet } from "../../devnet";
import { signItem } from "../../devnet/dataItem";
import { admission, chooseInstance, DEFAULT_DRY_RUN_LIMITS, type DryRunInstance } from "../../devnet/dryRuns";
import { IsolatedVm } from "../../devnet/isolatedVm";
import { loadModules } from "../../devnet/modules";
import { aoClient, type Devnet, devnetCliArgs, tempDataDir, withDevnet } from "../support/devnet";
import { testWallet } from "../support/wallets";

/**
 * Dry-runs never hold up the message path: they run on instances of their own (lowest CPU priority),
 * bounded per process and per connecting peer, never per claimed Owner. Issue 19, point 2.
 */
const alice = testWallet("alice");
const SLOW = 240_000;
const COUNTER = `Count = Count or 0
Handlers.add("inc", "Inc", function(m) Count = Count + 1; m.reply({ Data = tostring(Count) }) end)
Handlers.add("get", "Get", function(m) m.reply({ Data = tostring(Count) }) end)`;
const LOOP = "while true do end";

interface Answer {
  status: number;
  retryAfter?: string;
  body: { Error?: unknown; error?: string; raw?: { Error?: unknown; Messages?: { Data?: string }[] } };
}

/** A POST over a connection of its own from `localAddress` (127.0.0.x: another peer on loopback). */
function post(
  url: string,
  body: Buffer | string,
  headers: Record<string, string>,
  localAddress = "127.0.0.1",
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "POST", headers, localAddress, agent: false }, (res) => {
      let text = "";
      res.on("data", (c: Buffer) => {
        text += c.toString();
      });
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          ...(res.headers["retry-after"] ? { retryAfter: String(res.headers["retry-after"]) } : {}),
          body: JSON.parse(text) as Answer["body"],
        }),
      );
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** A legacy dry-run (`POST /dry-run`), claiming `owner` as its Owner. */
const legacyDryRun = (net: Devnet, pid: string, owner: string, tags: object[], data = "", from?: string) =>
  post(
    `${net.urls.cu}/dry-run?process-id=${pid}`,
    JSON.stringify({ Target: pid, Owner: owner, Tags: tags, Data: data }),
    { "Content-Type": "application/json" },
    from,
  );

/** A mainnet dry-run (`POST /<pid>~process@1.0/as=execution/compute&…`), signed by alice. */
async function mainnetDryRun(net: Devnet, pid: string, action: string, data = "", from?: string) {
  const { raw } = await signItem(alice.jwk, {
    data,
    tags: [{ name: "Type", value: "Message" }],
    target: pid,
  });
  return post(
    `${net.urls.node}/${pid}~process@1.0/as=execution/compute&Action=${action}`,
    raw,
    { "Content-Type": "application/ans104", "codec-device": "ans104@1.0" },
    from,
  );
}

const evalTags = [{ name: "Action", value: "Eval" }];

describe("looping dry-runs and a write to the same process", () => {
  let net: Awaited<ReturnType<typeof withDevnet>>;
  let pid: string;
  beforeAll(async () => {
    net = await withDevnet({ computeDeadlineMs: 4000 }, { expectDeadlineHits: true });
    pid = await aoClient(net, alice.jwk).spawnWithCode(net, COUNTER);
  }, SLOW);
  afterAll(async () => {
    await net?.cleanup();
  });

  test(
    "the write's result comes back while every looping dry-run (legacy and mainnet, claiming the owner) still runs",
    async () => {
      const settled: string[] = [];
      const watch = (name: string, p: Promise<Answer>) =>
        p.then((a) => {
          settled.push(name);
          return a;
        });
      const loops = [
        watch("legacy 1", legacyDryRun(net, pid, alice.address, evalTags, LOOP)),
        watch("legacy 2", legacyDryRun(net, pid, alice.address, evalTags, LOOP)),
        watch("mainnet 1", mainnetDryRun(net, pid, "Eval", LOOP)),
        watch("mainnet 2", mainnetDryRun(net, pid, "Eval", LOOP)),
      ];
      // Let the dry-runs reach the network first (on a network that queues them before writes, the write
      // would then wait for every one of them).
      await new Promise((r) => setTimeout(r, 1000));
      const ao = aoClient(net, alice.jwk);
      const write = await ao.send(pid, [{ name: "Action", value: "Inc" }]);
      settled.push("write");
      expect(write.Messages[0].Data).toBe("1");
      const answers = await Promise.all(loops);
      expect(settled[0], `settled in this order: ${settled.join(", ")}`).toBe("write");
      for (const a of answers) {
        expect(a.status).toBe(200);
        expect(String(a.body.Error ?? a.body.raw?.Error)).toMatch(/compute deadline/);
      }
      // The loops changed nothing, and the process still answers.
      const get = await ao.dryrun({ process: pid, tags: [{ name: "Action", value: "Get" }] });
      expect(get.Messages[0].Data).toBe("1");
      expect(net.deadlineHits().every((h) => h.nonce === undefined)).toBe(true);
    },
    SLOW,
  );
});

describe("bounds on dry-runs in flight", () => {
  let net: Awaited<ReturnType<typeof withDevnet>>;
  let a: string;
  let b: string;
  beforeAll(async () => {
    net = await withDevnet(
      {
        computeDeadlineMs: 3000,
        dryRuns: { perPeer: 2, perProcess: 3, instances: 2, instancesPerProcess: 1 },
      },
      { expectDeadlineHits: true },
    );
    const ao = aoClient(net, alice.jwk);
    [a, b] = [await ao.spawnWithCode(net, COUNTER), await ao.spawnWithCode(net, COUNTER)];
  }, SLOW);
  afterAll(async () => {
    await net?.cleanup();
  });

  test(
    "past its bound a peer gets a 429 and a process a 503, each with Retry-After, whatever Owner is claimed; another peer is served",
    async () => {
      // Two loops from this peer, each claiming the owner (anyone can): both admitted.
      const loops = [
        legacyDryRun(net, a, alice.address, evalTags, LOOP),
        legacyDryRun(net, a, alice.address, evalTags, LOOP),
      ];
      await new Promise((r) => setTimeout(r, 500));
      // A third from the same peer, to another process, claiming a third Owner: the peer's bound.
      for (const third of [
        await legacyDryRun(net, b, "X".repeat(43), [{ name: "Action", value: "Get" }]),
        await mainnetDryRun(net, b, "Get"),
      ]) {
        expect(third.status, JSON.stringify(third.body)).toBe(429);
        expect(third.retryAfter).toBe("1");
        expect(third.body.error).toMatch(/too many dry-runs in flight from 127\.0\.0\.1: 2 \(the limit is 2/);
      }
      // Another peer is admitted: process a then has 3 in flight, its bound; a fourth is a 503.
      const other = legacyDryRun(net, a, alice.address, [{ name: "Action", value: "Get" }], "", "127.0.0.2");
      await new Promise((r) => setTimeout(r, 500));
      const fourth = await legacyDryRun(
        net,
        a,
        alice.address,
        [{ name: "Action", value: "Get" }],
        "",
        "127.0.0.3",
      );
      expect(fourth.status, JSON.stringify(fourth.body)).toBe(503);
      expect(fourth.retryAfter).toBe("1");
      expect(fourth.body.error).toMatch(/has 3 dry-runs in flight \(the limit is 3 per process\)/);
      const served = await other;
      expect(served.status).toBe(200);
      expect((served.body as { Messages?: { Data?: string }[] }).Messages?.[0]?.Data).toBe("0");
      for (const loop of await Promise.all(loops))
        expect(String(loop.body.Error)).toMatch(/compute deadline/);
      // Once answered, they count no more: the same peer is served again.
      const again = await legacyDryRun(net, b, alice.address, [{ name: "Action", value: "Get" }]);
      expect(again.status).toBe(200);
      expect(net.dryRunInstances()).toBeLessThanOrEqual(2);
    },
    SLOW,
  );
});

describe("dry-run decisions", () => {
  const limits = { perPeer: 2, perProcess: 3, instances: 3, instancesPerProcess: 2 };

  test("admission: the peer's bound first (429), then the process's (503); below both, admitted", () => {
    expect(admission(limits, { peer: 1, process: 2 }, "p", "x")).toBeUndefined();
    expect(admission(limits, { peer: 2, process: 0 }, "p", "x")?.status).toBe(429);
    expect(admission(limits, { peer: 0, process: 3 }, "p", "x")?.status).toBe(503);
    expect(admission(limits, { peer: 2, process: 3 }, "p", "x")?.status).toBe(429);
  });

  const inst = (process: string, nonce: number, busy: boolean, lastUsed = 0): DryRunInstance<string> => ({
    process,
    nonce,
    busy,
    lastUsed,
    vm: `${process}@${nonce}`,
  });

  test("an idle instance of the process is reused (the most advanced), else a new one, else another's idle one", () => {
    expect(chooseInstance([inst("x", 3, false), inst("x", 7, false)], "x", limits)).toEqual({
      kind: "reuse",
      instance: inst("x", 7, false),
    });
    expect(chooseInstance([inst("x", 3, true)], "x", limits)).toEqual({ kind: "new" });
    const full = [inst("x", 3, true), inst("y", 1, false, 5), inst("z", 1, false, 2)];
    expect(chooseInstance(full, "x", limits)).toEqual({ kind: "repurpose", instance: full[2] });
  });

  test("a process at its own bound of instances waits, as does everyone when all are busy", () => {
    expect(chooseInstance([inst("x", 1, true), inst("x", 2, true)], "x", limits)).toEqual({ kind: "wait" });
    expect(chooseInstance([inst("y", 1, true), inst("y", 2, true), inst("z", 1, true)], "x", limits)).toEqual(
      {
        kind: "wait",
      },
    );
  });

  test("the defaults bound every count", () => {
    expect(Object.values(DEFAULT_DRY_RUN_LIMITS).every((n) => Number.isInteger(n) && n >= 1)).toBe(true);
  });

  test(
    "bounds that are not positive whole numbers are refused, naming the fix (startDevnet and the CLI)",
    async () => {
      const dataDir = tempDataDir();
      try {
        for (const dryRuns of [
          { perPeer: 0 },
          { perProcess: 1.5 },
          { instances: -1 },
          { instances: 1, instancesPerProcess: 2 },
        ])
          await expect(startDevnet({ dataDir, port: 0, dryRuns })).rejects.toThrow(
            /dry-run limit \w+ .*: (use a positive whole number|lower it)/,
          );
        for (const flag of ["--dry-run-instances", "--dry-runs-per-peer", "--dry-runs-per-process"]) {
          const cli = spawnSync(process.execPath, devnetCliArgs(dataDir, [flag, "0"]), { encoding: "utf8" });
          expect(cli.status).toBe(1);
          expect(cli.stderr).toContain(`${flag} 0: use a positive whole number`);
        }
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
    SLOW,
  );

  test.runIf(process.platform === "linux")(
    "dry-run instances run at the lowest CPU priority (nice 19); live ones at the network's own",
    async () => {
      const [mod] = await loadModules();
      const background = await IsolatedVm.start(mod!, undefined, { background: true });
      const live = await IsolatedVm.start(mod!);
      try {
        expect(background.niceness()).toBe(19);
        expect(live.niceness()).toBe(getPriority());
      } finally {
        await Promise.all([background.terminate(), live.terminate()]);
      }
    },
    SLOW,
  );
});

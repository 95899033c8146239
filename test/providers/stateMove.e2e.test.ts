/**
 * Zero-loss replacement, in process: the AoProcess and AoActiveProcess providers called the way the
 * engine calls them for a replacement (diff, create the new process, update the dependent, delete the
 * old), against the local AO network running the real registry on the real aos module, through the
 * real aoconnect. Covers the move, the freeze seen by clients, the backup, a failed move resumed, the
 * refusals before anything is spawned, and more than 100 pages signed within a minute.
 */
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ActiveInputs,
  type ActiveOutputs,
  ActiveProcessProvider,
  checkActiveInputs,
  processFields,
} from "../../providers/activeProcess";
import { checkInputs, Provider } from "../../providers/aoProcess";
import type { LegacyEndpoints } from "../../providers/aoValues";
import { bundleLua } from "../../providers/bundle";
import type { BackupFile } from "../../providers/stateMove";
import { digestOf } from "../../providers/stateTransfer";
import type { Inputs, Outputs } from "../../providers/types";
import { aoClient, type Devnet, withDevnet } from "../support/devnet";
import { testWallet, walletInEnv } from "../support/wallets";
import { startFaultProxy } from "./support/faultProxy";
import { networkInputs } from "./support/network";

const REGISTRY = path.join(__dirname, "..", "..", "ao-process", "registry.lua");
const registryCode = bundleLua(REGISTRY).code;
/**
 * The same registry as another program: what a release that changes its code deploys (a comment alone
 * is the same program, loaded in place by an Eval instead of replacing the process).
 */
const release = (n: number) => `do local release = ${n} end\n${registryCode}`;

let net: Devnet & { cleanup(): Promise<void> };
const owner = testWallet("move-owner");
const publisher = testWallet("move-publisher");
const aoProcess = new Provider();
const active = new ActiveProcessProvider();
const backupDir = mkdtempSync(path.join(tmpdir(), "move-backups-"));
let restoreEnv: () => void;

beforeAll(async () => {
  net = await withDevnet();
  restoreEnv = walletInEnv(owner.jwk);
});
afterAll(async () => {
  await net?.cleanup();
  restoreEnv?.();
});

function processInputs(code: string, patch: Record<string, unknown> = {}): Inputs {
  const { inputs, failures } = checkInputs({
    ...networkInputs(net, "move-e2e"),
    code,
    stateTransfer: true,
    ...patch,
  });
  expect(failures).toEqual([]);
  return inputs!;
}

function activeInputs(p: Outputs, patch: Partial<ActiveInputs> = {}): ActiveInputs {
  const { inputs, failures } = checkActiveInputs({
    ...processFields(p),
    backupDir,
    ...patch,
  });
  expect(failures).toEqual([]);
  return inputs!;
}

type Tag = { name: string; value: string };

/** One client (so one signer) per wallet: aoconnect refuses a 101st signer for a key within a minute. */
const clients = new Map<string, ReturnType<typeof aoClient>>();
const clientOf = (w: typeof owner) => {
  const c = clients.get(w.address) ?? aoClient(net, w.jwk);
  clients.set(w.address, c);
  return c;
};
const tagsOf = (m: { Tags?: Tag[] }) => Object.fromEntries((m.Tags ?? []).map((t) => [t.name, t.value]));

/** A request to the registry as the CLI sends it; the reply's tags and body. */
async function ask(
  pid: string,
  action: string,
  data: unknown = {},
  opts: { as?: typeof owner; write?: boolean } = {},
): Promise<{ tags: Record<string, string>; body: Record<string, unknown> & { ok: boolean } }> {
  const who = opts.as ?? publisher;
  const c = clientOf(who);
  const tags = [{ name: "Action", value: action }];
  const r = opts.write
    ? await c.send(pid, tags, JSON.stringify(data))
    : await c.dryrun({ process: pid, tags, data: JSON.stringify(data), Owner: who.address });
  const reply = (r.Messages ?? []).find((m: { Tags?: Tag[] }) => tagsOf(m).Action === `${action}-Response`);
  expect(reply, `${action} answered`).toBeDefined();
  return { tags: tagsOf(reply), body: JSON.parse(reply.Data) };
}

/** The process's endpoints with the messenger behind a fault proxy. */
const throughMu = (p: Outputs, mu: string): LegacyEndpoints => ({ ...(p.endpoints as LegacyEndpoints), mu });

const txId = (i: number) => `tx${String(i).padStart(41, "0")}`;
const hash = (i: number) => i.toString(16).padStart(64, "0");

/** Skills with versions (releases, pre-releases, build metadata), a deprecation, a transfer, odd text. */
async function populate(pid: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const name = `skill-${String(i).padStart(4, "0")}`;
    const r = await ask(
      pid,
      "Register-Skill",
      {
        name,
        description: i % 3 === 0 ? `Ünïcödé\ttab\nnewline "quoted" \\ ${i} 😀` : `plain skill ${i}`,
        tags: i % 2 ? ["pdf", "tools"] : ["data"],
        version: "1.0.0",
        txId: txId(i),
        contentHash: hash(i),
      },
      { write: true },
    );
    expect(r.body.ok, JSON.stringify(r.body)).toBe(true);
    if (i % 4 === 0) {
      for (const version of ["1.1.0-rc.1", "1.1.0+build.7"]) {
        const v = await ask(
          pid,
          "Publish-Version",
          { name, version, txId: txId(i + 1), contentHash: hash(i + 1) },
          { write: true },
        );
        expect(v.body.ok, JSON.stringify(v.body)).toBe(true);
      }
    }
  }
  expect(
    (await ask(pid, "Deprecate-Skill", { name: "skill-0001", reason: "use skill-0002" }, { write: true }))
      .body.ok,
  ).toBe(true);
  expect(
    (await ask(pid, "Transfer-Skill", { name: "skill-0002", to: owner.address }, { write: true })).body.ok,
  ).toBe(true);
}

/** Everything a client can read: every skill in detail, in name order. */
async function everything(pid: string): Promise<unknown[]> {
  const out: unknown[] = [];
  let cursor: string | null = null;
  do {
    const page = await ask(pid, "List-Skills", { limit: 100, ...(cursor ? { cursor } : {}) });
    for (const s of page.body.skills as { name: string }[]) {
      out.push((await ask(pid, "Get-Skill", { name: s.name })).body.skill);
    }
    cursor = page.body.nextCursor as string | null;
  } while (cursor);
  return out;
}

const stateInfo = async (pid: string) =>
  (await ask(pid, "State-Info")).body.stateTransfer as {
    status: string;
    digest: string;
    entries: number;
    successor: string | null;
  };

describe("a replacement moves the registry's state before the stack names the new process", () => {
  let a: Outputs;
  let activeA: ActiveOutputs;
  let b: Outputs;
  let moved: ActiveOutputs;
  let before: unknown[];

  beforeAll(async () => {
    a = (await aoProcess.create(processInputs(release(1)))).outs!;
    activeA = (await active.create(activeInputs(a))).outs!;
    await populate(a.processId, 12);
    before = await everything(a.processId);
  }, 240_000);

  it("a new process is sealed until the deploy opens it; the first one opens at once (no predecessor)", async () => {
    expect(activeA).toMatchObject({ processId: a.processId, owner: owner.address });
    expect((await stateInfo(a.processId)).status).toBe("open");
    const diff = await aoProcess.diff(a.processId, a, processInputs(release(2)));
    expect(diff.replaces).toEqual(["code"]);
    b = (await aoProcess.create(processInputs(release(2)))).outs!;
    expect((await stateInfo(b.processId)).status).toBe("sealed");
    const refused = await ask(
      b.processId,
      "Register-Skill",
      { name: "early", description: "too early" },
      { write: true },
    );
    expect(refused.tags["Error-Code"]).toBe("E_SEALED");
  }, 120_000);

  it("the dependent's update moves every record, compares digests, opens the new process, and only then names it", async () => {
    const t0 = Date.now();
    moved = (await active.update("active", activeA, activeInputs(b))).outs!;
    expect(moved).toMatchObject({
      processId: b.processId,
      previousProcessId: a.processId,
      codeSha256: b.codeSha256,
      deploymentId: b.deploymentId,
    });
    expect(moved.lastMove).toMatchObject({ from: a.processId, to: b.processId, alreadyDone: false });
    expect(moved.lastMove!.importedPages).toBe(moved.lastMove!.pages);
    expect(moved.lastMove!.writesRefusedMs).toBeLessThanOrEqual(Date.now() - t0);
    const [infoA, infoB] = [await stateInfo(a.processId), await stateInfo(b.processId)];
    expect(infoB).toMatchObject({ status: "open", digest: infoA.digest, entries: infoA.entries });
    expect(moved.digest).toBe(infoA.digest);
    expect(await everything(b.processId)).toEqual(before);
  }, 240_000);

  it("wrote a backup first whose entries give the old process's digest", () => {
    const file = moved.lastMove!.backupFile!;
    expect(file.startsWith(backupDir)).toBe(true);
    const backup = JSON.parse(readFileSync(file, "utf8")) as BackupFile;
    expect(backup).toMatchObject({ from: a.processId, to: b.processId, digest: moved.digest });
    expect(digestOf(backup.pages.flat())).toMatchObject({ digest: moved.digest, entries: moved.entries });
  });

  it("the old process is frozen: writes get E_MOVED naming the successor, reads still answer, every reply says Moved-To", async () => {
    const write = await ask(
      a.processId,
      "Publish-Version",
      { name: "skill-0000", version: "9.0.0", txId: txId(9), contentHash: hash(9) },
      { write: true },
    );
    expect(write.tags["Error-Code"]).toBe("E_MOVED");
    expect(write.tags["Moved-To"]).toBe(b.processId);
    expect(JSON.stringify(write.body)).toContain(b.processId);
    const read = await ask(a.processId, "Get-Skill", { name: "skill-0000" });
    expect(read.body.ok).toBe(true);
    expect(read.tags["Moved-To"]).toBe(b.processId);
    const info = await ask(a.processId, "Info");
    expect(info.tags["Moved-To"]).toBe(b.processId);
    expect(JSON.stringify(info.body)).toContain(b.processId);
    // A client that follows the successor succeeds.
    const followed = await ask(
      b.processId,
      "Publish-Version",
      { name: "skill-0000", version: "9.0.0", txId: txId(9), contentHash: hash(9) },
      { write: true },
    );
    expect(followed.body.ok).toBe(true);
    expect(followed.tags["Moved-To"]).toBeUndefined();
  }, 120_000);

  it("an update that names the same process again sends nothing that moves and keeps the record of the move", async () => {
    const again = (await active.update("active", moved, activeInputs(b))).outs!;
    expect(again).toMatchObject({ processId: b.processId, previousProcessId: a.processId });
    expect((await stateInfo(a.processId)).status).toBe("frozen");
  }, 60_000);
});

describe("a move that fails half-way", () => {
  it("is resumed by the next update: the pages already in the new process are kept, none is lost or doubled", async () => {
    const a = (await aoProcess.create(processInputs(release(10)))).outs!;
    const activeA = (await active.create(activeInputs(a))).outs!;
    await populate(a.processId, 10);
    const before = await everything(a.processId);
    const b = (await aoProcess.create(processInputs(release(11)))).outs!;

    // The messenger refuses for good (HTTP 400, not retried) after the freeze and three pages.
    let posts = 0;
    const mu = await startFaultProxy(net.urls.mu, (r) =>
      r.method === "POST" && ++posts > 4 ? { status: 400 } : "pass",
    );
    try {
      const broken = throughMu(b, mu.url);
      const failed = await active
        .update("active", activeA, activeInputs(b, { pageBytes: 1024, endpoints: broken }))
        .catch((e: Error) => e);
      expect(failed).toBeInstanceOf(Error);
      expect((failed as Error).message).toMatch(/HTTP 400/);
    } finally {
      await mu.close();
    }
    const halfway = await stateInfo(b.processId);
    expect(halfway.status).toBe("sealed");
    expect((await stateInfo(a.processId)).status).toBe("frozen");
    // The stack still names A (the update failed): A holds everything and answers reads.
    expect(await everything(a.processId)).toEqual(before);

    const resumed = (await active.update("active", activeA, activeInputs(b, { pageBytes: 1024 }))).outs!;
    expect(resumed.processId).toBe(b.processId);
    expect(resumed.lastMove!.importedPages).toBeLessThan(resumed.lastMove!.pages);
    expect(resumed.lastMove!.writesRefusedMs).toBeUndefined(); // frozen by the failed run
    expect(await everything(b.processId)).toEqual(before);
    expect((await stateInfo(b.processId)).digest).toBe((await stateInfo(a.processId)).digest);
  }, 300_000);
});

describe("abandoning a move, and moving back", () => {
  it("adopting the old process again unfreezes it when its successor never opened", async () => {
    const a = (await aoProcess.create(processInputs(release(50)))).outs!;
    const activeA = (await active.create(activeInputs(a))).outs!;
    await populate(a.processId, 3);
    const b = (await aoProcess.create(processInputs(release(51)))).outs!;
    let posts = 0;
    const mu = await startFaultProxy(net.urls.mu, (r) =>
      r.method === "POST" && ++posts > 2 ? { status: 400 } : "pass",
    );
    try {
      const broken = activeInputs(b, { pageBytes: 1024, endpoints: throughMu(b, mu.url) });
      expect(await active.update("active", activeA, broken).catch((e: Error) => e)).toBeInstanceOf(Error);
    } finally {
      await mu.close();
    }
    expect((await stateInfo(a.processId)).status).toBe("frozen");
    // The documented command: adopt the old process again (AoProcess), the active process settles it.
    const adopted = (await aoProcess.create(processInputs(release(51), { adoptProcessId: a.processId })))
      .outs!;
    const back = (await active.update("active", activeA, activeInputs(adopted))).outs!;
    expect(back.processId).toBe(a.processId);
    expect((await stateInfo(a.processId)).status).toBe("open");
    expect(
      (await ask(a.processId, "Register-Skill", { name: "after-abandon", description: "x" }, { write: true }))
        .body.ok,
    ).toBe(true);
    expect((await stateInfo(b.processId)).status).toBe("sealed");
  }, 240_000);

  it("an empty registry moves too, and back into its predecessor (a rollback)", async () => {
    const a = (await aoProcess.create(processInputs(release(60)))).outs!;
    const activeA = (await active.create(activeInputs(a))).outs!;
    const b = (await aoProcess.create(processInputs(release(61)))).outs!;
    const activeB = (await active.update("active", activeA, activeInputs(b))).outs!;
    expect(activeB.lastMove).toMatchObject({ entries: 0, pages: 1 });
    const back = (await active.update("active", activeB, activeInputs(a))).outs!;
    expect(back).toMatchObject({ processId: a.processId, previousProcessId: b.processId });
    expect(await stateInfo(a.processId)).toMatchObject({ status: "open", entries: 0 });
    expect(await stateInfo(b.processId)).toMatchObject({ status: "frozen", successor: a.processId });
  }, 240_000);
});

describe("a process that cannot take the state (a rollback to a release without the protocol)", () => {
  it("is refused before anything is frozen, unless the operator accepts the loss", async () => {
    const a = (await aoProcess.create(processInputs(release(70)))).outs!;
    const activeA = (await active.create(activeInputs(a))).outs!;
    await populate(a.processId, 3);
    const plain = `Handlers.add("Info", "Info", function(msg) msg.reply({ Tags = { ["Code-Sha256"] = DeployedCode.Sha256 } }) end)`;
    const old = (await aoProcess.create(processInputs(plain, { stateTransfer: false }))).outs!;

    const refused = await active.update("active", activeA, activeInputs(old)).catch((e: Error) => e);
    expect((refused as Error).message).toMatch(
      new RegExp(`process ${old.processId} does not speak the state-transfer protocol`),
    );
    expect((await stateInfo(a.processId)).status).toBe("open");

    const accepted = (await active.update("active", activeA, activeInputs(old, { acceptDataLoss: true })))
      .outs!;
    expect(accepted).toMatchObject({ processId: old.processId, previousProcessId: a.processId });
    expect(accepted.lastMove).toBeUndefined();
    expect((await stateInfo(a.processId)).status).toBe("open"); // nothing froze it: its data stays there
  }, 240_000);
});

describe("refused before anything is spawned", () => {
  it("a process that does not speak the state-transfer protocol: the diff says how to load code that does", async () => {
    const plain = `Handlers.add("Info", "Info", function(msg) msg.reply({ Tags = { ["Code-Sha256"] = DeployedCode.Sha256 } }) end)`;
    const old = (await aoProcess.create(processInputs(plain, { stateTransfer: false }))).outs!;
    const e = await aoProcess
      .diff(old.processId, { ...old, stateTransfer: true }, processInputs(release(20)))
      .catch((err: Error) => err);
    expect(e).toBeInstanceOf(Error);
    expect((e as Error).message).toMatch(
      new RegExp(
        `process ${old.processId} does not speak the state-transfer protocol .*nothing was spawned.*"eval"`,
      ),
    );
  }, 120_000);

  it("an old process the deploying wallet does not own", async () => {
    const a = (await aoProcess.create(processInputs(release(30)))).outs!;
    const stranger = testWallet("move-stranger");
    process.env.AO_WALLET_JWK = JSON.stringify(stranger.jwk);
    try {
      const e = await aoProcess.diff(a.processId, a, processInputs(release(31))).catch((err: Error) => err);
      expect((e as Error).message).toMatch(
        new RegExp(`wallet ${stranger.address} does not own process ${a.processId}.*Nothing was spawned`),
      );
      expect((e as Error).message).not.toContain(stranger.jwk.d);
    } finally {
      process.env.AO_WALLET_JWK = JSON.stringify(owner.jwk);
    }
  }, 120_000);
});

describe("signing at volume: one signer per deploy", () => {
  it("moves more than 100 pages within a minute through the provider's own client", async () => {
    const a = (await aoProcess.create(processInputs(release(40)))).outs!;
    const activeA = (await active.create(activeInputs(a))).outs!;
    await populate(a.processId, 200);
    const b = (await aoProcess.create(processInputs(release(41)))).outs!;
    const t0 = Date.now();
    const moved = (await active.update("active", activeA, activeInputs(b, { pageBytes: 1024 }))).outs!;
    const seconds = (Date.now() - t0) / 1000;
    expect(moved.lastMove!.pages).toBeGreaterThan(100);
    // Meaningful only if the pages were signed within aoconnect's one-minute window.
    expect(seconds).toBeLessThan(60);
    expect((await stateInfo(b.processId)).digest).toBe(moved.digest);
    expect(existsSync(moved.lastMove!.backupFile!)).toBe(true);
  }, 300_000);
});

describe("a change of network (the first mainnet deploy of a legacy stack): the state moves across", () => {
  it("replaces the legacy process with a mainnet one and moves every record into it", async () => {
    const a = (await aoProcess.create(processInputs(release(10)))).outs!;
    const activeA = (await active.create(activeInputs(a))).outs!;
    await populate(a.processId, 5);
    const before = await everything(a.processId);
    const onMainnet = processInputs(release(10), {
      endpoints: { network: "mainnet", node: net.urls.node },
      authority: undefined,
    });
    expect((await aoProcess.diff(a.processId, a, onMainnet)).replaces).toEqual(["endpoints.network"]);
    const b = (await aoProcess.create(onMainnet)).outs!;
    // The mainnet process trusts the node's own address, read from it, not the legacy messenger's.
    expect(b).toMatchObject({ endpoints: { network: "mainnet" }, evalSlot: 1, authority: net.nodeAddress });
    const moved = (await active.update("active", activeA, activeInputs(b))).outs!;
    expect(moved).toMatchObject({ processId: b.processId, previousProcessId: a.processId });
    expect(moved.endpoints).toEqual({ network: "mainnet", node: net.urls.node });
    const [infoA, infoB] = [await stateInfo(a.processId), await stateInfo(b.processId)];
    expect(infoB).toMatchObject({ status: "open", digest: infoA.digest, entries: infoA.entries });
    expect(infoA).toMatchObject({ status: "frozen", successor: b.processId });
    expect(await everything(b.processId)).toEqual(before);
  }, 240_000);
});

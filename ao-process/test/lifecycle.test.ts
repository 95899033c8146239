/**
 * The registry across its life: loading the code again (eval upgrades, resumed deployments), moving
 * the data into a replacement process with Export-State / Import-State, a restart of the network, and
 * the deployment record. One network for the file, restarted once on the same data directory.
 */
import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { wrapWithFooter } from "../../providers/footer";
import { sha256Hex } from "../../providers/hash";
import { type Devnet, tempDataDir, withDevnet } from "../../test/support/devnet";
import {
  type Actor,
  actor,
  type Body,
  contentHash,
  deployRegistry,
  evalCode,
  expectError,
  expectOk,
  Registry,
  registryCode,
  spawnProcess,
  txId,
} from "./support/registry";

const dataDir = tempDataDir("registry-lifecycle-");
let net: Devnet & { cleanup(): Promise<void> };
let owner: Actor;
let alice: Actor;
let bob: Actor;
let reg: Registry;

async function startNetwork() {
  net = await withDevnet({ dataDir });
  owner = actor(net, "registry-owner");
  alice = actor(net, "alice");
  bob = actor(net, "bob");
}

/** Every record of a registry, through Export-State pages. */
async function exportAll(r: Registry, as: Actor): Promise<Body[]> {
  const out: Body[] = [];
  let cursor: string | null = null;
  do {
    const page: Body = expectOk(
      await r.read(as, "Export-State", cursor ? { cursor, limit: 2 } : { limit: 2 }),
    );
    out.push(...page.skills);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return out;
}

beforeAll(async () => {
  await startNetwork();
  const pid = await spawnProcess(net, owner, "registry-lifecycle");
  await deployRegistry(owner, pid, "lifecycle-1");
  reg = new Registry(pid);
  for (const [i, name] of ["agent-mail", "browser-use", "code-review", "db-migrate", "excel-io"].entries()) {
    const by = i % 2 === 0 ? alice : bob;
    expectOk(
      await reg.send(by, "Register-Skill", {
        name,
        description: `skill number ${i}`,
        tags: ["lifecycle", `n${i}`],
        version: "1.0.0",
        txId: txId(`${name}-1`),
        contentHash: contentHash(i),
      }),
    );
  }
  expectOk(
    await reg.send(alice, "Publish-Version", {
      name: "agent-mail",
      version: "1.1.0-rc.1",
      txId: txId("am-rc"),
      contentHash: contentHash(50),
    }),
  );
  expectOk(await reg.send(bob, "Deprecate-Skill", { name: "browser-use", reason: "superseded" }));
  expectOk(await reg.send(alice, "Transfer-Skill", { name: "code-review", to: bob.address }));
});

afterAll(async () => {
  await net?.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("loading the code again", () => {
  it("keeps every skill and reports the new deployment record", async () => {
    const before = await exportAll(reg, owner);
    const counts = await reg.counts(owner);
    const { sha256 } = await deployRegistry(owner, reg.processId, "lifecycle-2");

    const info = await reg.read(alice, "Info");
    expect(expectOk(info).deployment).toEqual({ sha256, deploymentId: "lifecycle-2" });
    expect(info.tags["Code-Sha256"]).toBe(sha256);
    expect(await reg.counts(owner)).toEqual(counts);
    expect(await exportAll(reg, owner)).toEqual(before);
    // Handlers were replaced, not added twice: still exactly one reply per request (checked by send).
    expectOk(
      await reg.send(alice, "Publish-Version", {
        name: "agent-mail",
        version: "1.1.0",
        txId: txId("am-110"),
        contentHash: contentHash(51),
      }),
    );
  });

  it("upgrades to changed code in place (eval strategy) and reports its hash", async () => {
    const { code } = registryCode();
    const upgraded = `${code}\n-- upgrade marker\n`;
    const sha256 = sha256Hex(upgraded);
    await evalCode(owner, reg.processId, wrapWithFooter(upgraded, { sha256, deploymentId: "lifecycle-3" }));
    const info = await reg.read(bob, "Info");
    expect(info.tags["Code-Sha256"]).toBe(sha256);
    expect(expectOk(info).deployment.deploymentId).toBe("lifecycle-3");
    const got = expectOk(await reg.read(bob, "Get-Skill", { name: "agent-mail" }));
    expect(got.skill.versions).toEqual(["1.0.0", "1.1.0-rc.1", "1.1.0"]);
    expect(got.version.version).toBe("1.1.0");
  });
});

describe("Export-State / Import-State into a replacement process", () => {
  it("moves every skill, version, publisher, deprecation and timestamp", async () => {
    const source = await exportAll(reg, owner);
    expect(source).toHaveLength(5);

    const pid = await spawnProcess(net, owner, "registry-replacement");
    // A new process is sealed until opened: writes are refused, imports accepted.
    await deployRegistry(owner, pid, "replacement-1", { open: false });
    const target = new Registry(pid);
    // Import in two pages, as a migration script would.
    const first = expectOk(await target.send(owner, "Import-State", { skills: source.slice(0, 3) }));
    expect(first).toMatchObject({ imported: 3, replaced: 0, total: 3 });
    const second = expectOk(await target.send(owner, "Import-State", { skills: source.slice(3) }));
    expect(second).toMatchObject({ imported: 2, replaced: 0, total: 5 });
    // Being filled, it answers no registry read as if its data were whole (1.4.0).
    expectError(await target.read(alice, "Get-Skill", { name: "browser-use" }), "E_SEALED");
    expectError(await target.read(alice, "Export-State", {}), "E_SEALED");

    // Importing a page again replaces, so an interrupted migration can be resumed.
    const again = expectOk(await target.send(owner, "Import-State", { skills: source.slice(3) }));
    expect(again).toMatchObject({ imported: 2, replaced: 2, total: 5 });
    // Replacing re-indexes: a record whose tags changed is found only by its new tags (read once open).
    const retagged = { ...source[4], tags: ["moved"] };
    expectOk(await target.send(owner, "Import-State", { skills: [retagged] }));
    expect((await target.counts(owner)).skills).toBe(5);

    // Sealed: no live write yet, even from a publisher; the owner opens the registry when the data is in.
    expectError(
      await target.send(alice, "Publish-Version", {
        name: "agent-mail",
        version: "2.0.0",
        txId: txId("x"),
        contentHash: contentHash(9),
      }),
      "E_SEALED",
    );
    expectOk(await target.send(owner, "State-Open", {}));

    expect(await exportAll(target, owner)).toEqual([...source.slice(0, 4), retagged]);
    expect(await target.counts(owner)).toEqual(await reg.counts(owner));
    const got = expectOk(await target.read(alice, "Get-Skill", { name: "browser-use" }));
    expect(got.skill).toMatchObject({
      publisher: bob.address,
      deprecated: true,
      deprecationReason: "superseded",
    });
    expect(expectOk(await target.read(alice, "Get-Skill", { name: "code-review" })).skill.publisher).toBe(
      bob.address,
    );
    const tagged = expectOk(await target.read(alice, "Search-Skills", { tag: "lifecycle" }));
    expect(tagged.skills.map((s: Body) => s.name)).toEqual(["agent-mail", "code-review", "db-migrate"]);
    expect(expectOk(await target.read(alice, "Search-Skills", { tag: "moved" })).skills).toHaveLength(1);

    // Publisher rights moved too: the publisher, not the owner, changes a skill in the new process.
    expectError(
      await target.send(owner, "Publish-Version", {
        name: "agent-mail",
        version: "2.0.0",
        txId: txId("x"),
        contentHash: contentHash(9),
      }),
      "E_NOT_PUBLISHER",
    );
    expectOk(
      await target.send(alice, "Publish-Version", {
        name: "agent-mail",
        version: "2.0.0",
        txId: txId("x"),
        contentHash: contentHash(9),
      }),
    );

    // An open registry refuses imports for good: no later page can replace a publisher's skill.
    const closed = expectError(
      await target.send(owner, "Import-State", { skills: source.slice(0, 1) }),
      "E_IMPORT_CLOSED",
    );
    expect(closed.body.error.message).toContain("freshly deployed");
    const kept = expectOk(await target.read(alice, "Get-Skill", { name: "agent-mail" }));
    expect(kept.skill.latestVersion).toBe("2.0.0");
    expect((await target.counts(owner)).skills).toBe(5);
  });
});

describe("a restart of the network", () => {
  it("keeps the registry's state and keeps serving it", async () => {
    const before = await exportAll(reg, owner);
    const info = expectOk(await reg.read(owner, "Info"));
    await net.stop();
    await startNetwork();

    expect(await exportAll(reg, owner)).toEqual(before);
    const after = expectOk(await reg.read(owner, "Info"));
    expect(after.counts).toEqual(info.counts);
    expect(after.deployment).toEqual(info.deployment);
    const v = expectOk(
      await reg.send(bob, "Publish-Version", {
        name: "db-migrate",
        version: "1.0.1",
        txId: txId("dbm-101"),
        contentHash: contentHash(77),
      }),
    );
    expect(v.skill.latestVersion).toBe("1.0.1");
    expectError(
      await reg.send(alice, "Register-Skill", { name: "db-migrate", description: "again" }),
      "E_SKILL_EXISTS",
    );
  });
});

describe("the deployment record and internal failures", () => {
  it("reports deployment null and no Code-Sha256 tag when the code was loaded without the footer", async () => {
    const pid = await spawnProcess(net, owner, "registry-bare");
    await evalCode(owner, pid, registryCode().code);
    const bare = new Registry(pid);
    const info = await bare.read(alice, "Info");
    expect(expectOk(info).deployment).toBeNull();
    expect(info.tags["Code-Sha256"]).toBeUndefined();
  });

  it("answers E_INTERNAL instead of raising when its state is broken", async () => {
    const pid = await spawnProcess(net, owner, "registry-broken");
    await deployRegistry(owner, pid, "broken-1");
    const broken = new Registry(pid);
    await evalCode(owner, pid, "Registry.skills = nil");
    const r = expectError(await broken.send(alice, "Get-Skill", { name: "anything" }), "E_INTERNAL");
    expect(r.body.error.message).toContain("Get-Skill");
  });
});

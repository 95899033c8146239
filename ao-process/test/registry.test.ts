/**
 * The registry's message protocol, on the real aos module in the local AO network, through aoconnect:
 * every action's success path and every error code. One network for the whole file.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Devnet, withDevnet } from "../../test/support/devnet";
import {
  type Actor,
  actor,
  type Body,
  contentHash,
  deployRegistry,
  expectError,
  expectOk,
  messageId,
  Registry,
  spawnProcess,
  txId,
  wallClock,
} from "./support/registry";

let net: Devnet & { cleanup(): Promise<void> };
let owner: Actor;
let alice: Actor;
let bob: Actor;
let reg: Registry;
let deployedSha: string;

beforeAll(async () => {
  net = await withDevnet();
  owner = actor(net, "registry-owner");
  alice = actor(net, "alice");
  bob = actor(net, "bob");
  const pid = await spawnProcess(net, owner, "registry-protocol");
  deployedSha = (await deployRegistry(owner, pid, "protocol-test-1")).sha256;
  reg = new Registry(pid);
});

afterAll(async () => {
  await net?.cleanup();
});

const version = (name: string, v: string, seed = 1) => ({
  name,
  version: v,
  txId: txId(`${name}-${v}`),
  contentHash: contentHash(seed),
});

describe("Info", () => {
  it("reports the registry name, protocol version, owner, counts and the deployed code hash", async () => {
    const r = await reg.read(alice, "Info");
    const body = expectOk(r);
    expect(body.registry).toBe("Agent Skills Registry");
    // 1.4.0: a registry being filled answers no read, reads are anyone's (ao-process/README.md, Changes).
    expect(body.protocolVersion).toBe("1.4.0");
    expect(r.tags["Protocol-Version"]).toBe("1.4.0");
    expect(body.status).toBe("open");
    expect(body.successor).toBeNull();
    expect(body.owner).toBe(owner.address);
    expect(body.process).toBe(reg.processId);
    expect(body.counts).toEqual({ skills: 0, versions: 0, deprecated: 0, publishers: 0, tags: 0 });
    expect(body.deployment).toEqual({ sha256: deployedSha, deploymentId: "protocol-test-1" });
    expect(r.tags["Code-Sha256"]).toBe(deployedSha);
    expect(body.limits.pageMax).toBe(100);
    // On aos 2.0, the module every stack deploys, the ingress guard is fully active (test/ingress.test.ts).
    expect(body.ingress).toEqual({ active: true, jsonGuard: true, dropsUnhandled: true, reason: null });
  });

  it("answers a real message too, replying to its sender", async () => {
    const r = await reg.send(alice, "Info", "");
    expect(expectOk(r).registry).toBe("Agent Skills Registry");
    expect(r.target).toBe(alice.address);
  });
});

describe("Register-Skill", () => {
  it("registers a skill with the sender as publisher and the message timestamp", async () => {
    const before = wallClock();
    const r = await reg.send(alice, "Register-Skill", {
      name: "pdf-tools",
      description: "Read, split and merge PDF files",
      tags: ["pdf", "documents"],
    });
    const body = expectOk(r);
    expect(r.tags.Action).toBe("Register-Skill-Response");
    expect(body.skill).toMatchObject({
      name: "pdf-tools",
      publisher: alice.address,
      description: "Read, split and merge PDF files",
      tags: ["documents", "pdf"],
      versions: [],
      latestVersion: null,
      deprecated: false,
      deprecationReason: null,
    });
    expect(body.skill.createdAt).toBeGreaterThan(before - 60_000);
    expect(body.skill.createdAt).toBeLessThan(wallClock() + 60_000);
    expect(body.skill.updatedAt).toBe(body.skill.createdAt);
    expect(body.version).toBeNull();
  });

  it("can publish a first version in the same message", async () => {
    const body = expectOk(
      await reg.send(alice, "Register-Skill", {
        name: "csv-kit",
        description: "CSV parsing and cleanup",
        tags: ["csv", "data"],
        version: "0.1.0",
        txId: txId("csv-kit-0.1.0"),
        contentHash: contentHash(7),
      }),
    );
    expect(body.skill.latestVersion).toBe("0.1.0");
    expect(body.version).toMatchObject({
      version: "0.1.0",
      txId: txId("csv-kit-0.1.0"),
      publishedBy: alice.address,
    });
  });

  it("refuses a name that is taken (E_SKILL_EXISTS), even by another publisher, and changes nothing", async () => {
    const counts = await reg.counts(bob);
    const r = expectError(
      await reg.send(bob, "Register-Skill", { name: "pdf-tools", description: "mine now" }),
      "E_SKILL_EXISTS",
    );
    expect(r.body.error.field).toBe("name");
    expect(await reg.counts(bob)).toEqual(counts);
    const got = expectOk(await reg.read(bob, "Get-Skill", { name: "pdf-tools" }));
    expect(got.skill.publisher).toBe(alice.address);
    expect(got.skill.description).toBe("Read, split and merge PDF files");
  });

  it.each([
    ["Uppercase"],
    ["-leading"],
    ["trailing-"],
    ["double--hyphen"],
    ["with space"],
    ["under_score"],
    [""],
  ])("refuses the invalid name %j (E_INVALID_NAME)", async (name) => {
    expectError(await reg.send(bob, "Register-Skill", { name, description: "x" }), "E_INVALID_NAME");
  });

  it("accepts a 64-character name and refuses 65 (E_FIELD_TOO_LARGE)", async () => {
    expectOk(await reg.send(bob, "Register-Skill", { name: "a".repeat(64), description: "longest name" }));
    const r = expectError(
      await reg.send(bob, "Register-Skill", { name: "b".repeat(65), description: "too long" }),
      "E_FIELD_TOO_LARGE",
    );
    expect(r.body.error.field).toBe("name");
  });

  it("accepts a 1024-byte description and refuses 1025 bytes (E_FIELD_TOO_LARGE)", async () => {
    expectOk(await reg.send(bob, "Register-Skill", { name: "long-desc", description: "d".repeat(1024) }));
    const r = expectError(
      await reg.send(bob, "Register-Skill", { name: "longer-desc", description: "é".repeat(513) }),
      "E_FIELD_TOO_LARGE",
    );
    expect(r.body.error.message).toContain("1026 bytes");
  });

  it("refuses missing, unknown and mistyped fields", async () => {
    expectError(await reg.send(bob, "Register-Skill", { name: "no-desc" }), "E_MISSING_FIELD");
    const unknown = expectError(
      await reg.send(bob, "Register-Skill", { name: "typo", descripton: "x" }),
      "E_UNKNOWN_FIELD",
    );
    expect(unknown.body.error.field).toBe("descripton");
    expectError(await reg.send(bob, "Register-Skill", { name: "typed", description: 42 }), "E_INVALID_FIELD");
    expectError(
      await reg.send(bob, "Register-Skill", { name: "blank", description: "   " }),
      "E_INVALID_FIELD",
    );
    expectError(
      await reg.send(bob, "Register-Skill", { name: "ctrl", description: "bell\u0007" }),
      "E_INVALID_FIELD",
    );
    const partial = expectError(
      await reg.send(bob, "Register-Skill", { name: "half", description: "x", version: "1.0.0" }),
      "E_MISSING_FIELD",
    );
    expect(partial.body.error.field).toBe("txId");
    expect(partial.body.error.message).toContain("txId, contentHash");
  });

  it("validates tags: pattern, duplicates, count and length", async () => {
    expectError(
      await reg.send(bob, "Register-Skill", { name: "t1", description: "x", tags: ["PDF"] }),
      "E_INVALID_TAG",
    );
    expectError(
      await reg.send(bob, "Register-Skill", { name: "t2", description: "x", tags: ["pdf", "pdf"] }),
      "E_INVALID_TAG",
    );
    const many = Array.from({ length: 11 }, (_, i) => `tag${i}`);
    expectError(
      await reg.send(bob, "Register-Skill", { name: "t3", description: "x", tags: many }),
      "E_FIELD_TOO_LARGE",
    );
    expectError(
      await reg.send(bob, "Register-Skill", { name: "t4", description: "x", tags: ["t".repeat(33)] }),
      "E_FIELD_TOO_LARGE",
    );
    expectError(
      await reg.send(bob, "Register-Skill", { name: "t5", description: "x", tags: "pdf" }),
      "E_INVALID_FIELD",
    );
  });

  it("answers malformed JSON, arrays and bare values with E_BAD_JSON", async () => {
    const counts = await reg.counts(bob);
    for (const data of [
      "{not json",
      '{"name": "x"',
      "{'name': 'x'}",
      "nul",
      '["pdf-tools"]',
      '"pdf-tools"',
      "42",
    ]) {
      expectError(await reg.send(bob, "Register-Skill", data), "E_BAD_JSON");
    }
    expect(await reg.counts(bob)).toEqual(counts);
  });

  it("refuses a message over 16 KiB (E_MESSAGE_TOO_LARGE)", async () => {
    const r = expectError(
      await reg.send(bob, "Register-Skill", { name: "huge", description: "x", padding: "p".repeat(17_000) }),
      "E_MESSAGE_TOO_LARGE",
    );
    expect(r.body.error.message).toContain("16384");
  });

  it("accepts Data sent with Content-Type: application/json (the registry decodes it, not aos)", async () => {
    const body = expectOk(
      await reg.send(bob, "Register-Skill", { name: "json-typed", description: "sent with a content type" }, [
        { name: "Content-Type", value: "application/json" },
      ]),
    );
    expect(body.skill.publisher).toBe(bob.address);
  });
});

describe("Publish-Version and Get-Skill", () => {
  it("publishes versions and picks latest by semver precedence, not by publish order", async () => {
    expectOk(await reg.send(alice, "Publish-Version", version("pdf-tools", "1.0.0", 1)));
    expectOk(await reg.send(alice, "Publish-Version", version("pdf-tools", "2.0.0", 2)));
    const older = expectOk(await reg.send(alice, "Publish-Version", version("pdf-tools", "1.5.0", 3)));
    expect(older.skill.latestVersion).toBe("2.0.0");
    const rc = expectOk(await reg.send(alice, "Publish-Version", version("pdf-tools", "3.0.0-rc.1", 4)));
    expect(rc.version.prerelease).toBe(true);
    expect(rc.skill.latestVersion).toBe("2.0.0"); // a pre-release is not "latest" while a release exists

    const got = expectOk(await reg.read(bob, "Get-Skill", { name: "pdf-tools" }));
    expect(got.skill.versions).toEqual(["1.0.0", "1.5.0", "2.0.0", "3.0.0-rc.1"]);
    expect(got.version).toMatchObject({
      version: "2.0.0",
      txId: txId("pdf-tools-2.0.0"),
      contentHash: contentHash(2),
      publishedBy: alice.address,
    });
    expect(got.version.publishedAt).toBeGreaterThan(0);
    expect(
      expectOk(await reg.read(bob, "Get-Skill", { name: "pdf-tools", version: "latest" })).version.version,
    ).toBe("2.0.0");
    expect(
      expectOk(await reg.read(bob, "Get-Skill", { name: "pdf-tools", version: "1.5.0" })).version.contentHash,
    ).toBe(contentHash(3));
  });

  it("orders pre-releases by precedence (numeric identifiers numerically) when only pre-releases exist", async () => {
    expectOk(await reg.send(alice, "Register-Skill", { name: "pre-only", description: "only pre-releases" }));
    for (const v of [
      "1.0.0-beta.11",
      "1.0.0-alpha",
      "1.0.0-beta.2",
      "1.0.0-alpha.beta",
      "1.0.0-rc.1",
      "1.0.0-alpha.1",
    ]) {
      expectOk(await reg.send(alice, "Publish-Version", version("pre-only", v)));
    }
    const got = expectOk(await reg.read(alice, "Get-Skill", { name: "pre-only" }));
    expect(got.skill.versions).toEqual([
      "1.0.0-alpha",
      "1.0.0-alpha.1",
      "1.0.0-alpha.beta",
      "1.0.0-beta.2",
      "1.0.0-beta.11",
      "1.0.0-rc.1",
    ]);
    expect(got.skill.latestVersion).toBe("1.0.0-rc.1");
    expect(got.version.version).toBe("1.0.0-rc.1");
  });

  it("keeps build metadata but treats it as the same version (E_VERSION_EXISTS)", async () => {
    expectOk(await reg.send(alice, "Register-Skill", { name: "built", description: "with build metadata" }));
    expectOk(await reg.send(alice, "Publish-Version", version("built", "1.0.0+build.5")));
    const got = expectOk(await reg.read(alice, "Get-Skill", { name: "built", version: "1.0.0" }));
    expect(got.version.version).toBe("1.0.0+build.5");
    expectError(
      await reg.send(alice, "Publish-Version", version("built", "1.0.0+build.6")),
      "E_VERSION_EXISTS",
    );
  });

  it("refuses to publish a version twice (E_VERSION_EXISTS) and keeps the first", async () => {
    const r = expectError(
      await reg.send(alice, "Publish-Version", {
        ...version("pdf-tools", "1.0.0"),
        contentHash: contentHash(99),
      }),
      "E_VERSION_EXISTS",
    );
    expect(r.body.error.field).toBe("version");
    const got = expectOk(await reg.read(alice, "Get-Skill", { name: "pdf-tools", version: "1.0.0" }));
    expect(got.version.contentHash).toBe(contentHash(1));
  });

  it.each(["1.0", "01.0.0", "1.0.0-", "1.0.0-01", "v1.0.0", "1.0.0+", "1.0.0-a..b", "1.2.3.4"])(
    "refuses the invalid version %j (E_INVALID_VERSION)",
    async (v) => {
      expectError(await reg.send(alice, "Publish-Version", version("pdf-tools", v)), "E_INVALID_VERSION");
    },
  );

  it("validates the Arweave transaction ID and the content hash", async () => {
    const base = version("pdf-tools", "9.0.0");
    expectError(
      await reg.send(alice, "Publish-Version", { ...base, txId: "x".repeat(42) }),
      "E_INVALID_TX_ID",
    );
    expectError(
      await reg.send(alice, "Publish-Version", { ...base, txId: `${"x".repeat(42)}=` }),
      "E_INVALID_TX_ID",
    );
    expectError(
      await reg.send(alice, "Publish-Version", { ...base, contentHash: "A".repeat(64) }),
      "E_INVALID_HASH",
    );
    expectError(
      await reg.send(alice, "Publish-Version", { ...base, contentHash: "a".repeat(63) }),
      "E_INVALID_HASH",
    );
    expectError(
      await reg.send(alice, "Publish-Version", { ...base, version: "9".repeat(65) }),
      "E_FIELD_TOO_LARGE",
    );
    const got = expectOk(await reg.read(alice, "Get-Skill", { name: "pdf-tools" }));
    expect(got.skill.versions).not.toContain("9.0.0");
  });

  it("lets only the publisher publish (E_NOT_PUBLISHER)", async () => {
    const r = expectError(
      await reg.send(bob, "Publish-Version", version("pdf-tools", "4.0.0")),
      "E_NOT_PUBLISHER",
    );
    expect(r.body.error.message).toContain(alice.address);
    const got = expectOk(await reg.read(bob, "Get-Skill", { name: "pdf-tools" }));
    expect(got.skill.versions).not.toContain("4.0.0");
  });

  it("reports unknown skills and versions (E_SKILL_NOT_FOUND, E_VERSION_NOT_FOUND)", async () => {
    expectError(await reg.send(alice, "Publish-Version", version("nope", "1.0.0")), "E_SKILL_NOT_FOUND");
    expectError(await reg.read(alice, "Get-Skill", { name: "nope" }), "E_SKILL_NOT_FOUND");
    const r = expectError(
      await reg.read(alice, "Get-Skill", { name: "pdf-tools", version: "0.0.1" }),
      "E_VERSION_NOT_FOUND",
    );
    expect(r.body.error.message).toContain("2.0.0");
    expectError(await reg.read(alice, "Get-Skill", {}), "E_MISSING_FIELD");
  });

  it("returns a null version for a skill without versions", async () => {
    const got = expectOk(await reg.read(alice, "Get-Skill", { name: "long-desc" }));
    expect(got.version).toBeNull();
    expect(got.skill.latestVersion).toBeNull();
  });
});

describe("Update-Skill, Deprecate-Skill and Transfer-Skill", () => {
  it("updates description and tags for the publisher only", async () => {
    expectOk(
      await reg.send(alice, "Register-Skill", { name: "mailer", description: "Send mail", tags: ["email"] }),
    );
    expectError(
      await reg.send(bob, "Update-Skill", { name: "mailer", description: "hijacked" }),
      "E_NOT_PUBLISHER",
    );
    expectError(await reg.send(alice, "Update-Skill", { name: "mailer" }), "E_MISSING_FIELD");
    const body = expectOk(
      await reg.send(alice, "Update-Skill", {
        name: "mailer",
        description: "Send and read mail",
        tags: ["imap", "smtp"],
      }),
    );
    expect(body.skill).toMatchObject({ description: "Send and read mail", tags: ["imap", "smtp"] });
    expect(expectOk(await reg.read(bob, "Search-Skills", { tag: "email" })).skills).toEqual([]);
    expect(
      expectOk(await reg.read(bob, "Search-Skills", { tag: "smtp" })).skills.map((s: Body) => s.name),
    ).toEqual(["mailer"]);
  });

  it("deprecates and un-deprecates for the publisher only", async () => {
    expectError(await reg.send(bob, "Deprecate-Skill", { name: "csv-kit" }), "E_NOT_PUBLISHER");
    expectError(
      await reg.send(alice, "Deprecate-Skill", { name: "csv-kit", reason: "r".repeat(257) }),
      "E_FIELD_TOO_LARGE",
    );
    const dep = expectOk(
      await reg.send(alice, "Deprecate-Skill", { name: "csv-kit", reason: "use table-kit" }),
    );
    expect(dep.skill).toMatchObject({ deprecated: true, deprecationReason: "use table-kit" });
    expect(dep.skill.deprecatedAt).toBeGreaterThan(0);
    expect((await reg.counts(bob)).deprecated).toBe(1);

    expectError(await reg.send(alice, "Publish-Version", version("csv-kit", "0.2.0")), "E_SKILL_DEPRECATED");
    expectError(
      await reg.send(alice, "Deprecate-Skill", { name: "csv-kit", deprecated: false, reason: "x" }),
      "E_INVALID_FIELD",
    );
    expectError(
      await reg.send(alice, "Deprecate-Skill", { name: "csv-kit", deprecated: "no" }),
      "E_INVALID_FIELD",
    );

    const back = expectOk(await reg.send(alice, "Deprecate-Skill", { name: "csv-kit", deprecated: false }));
    expect(back.skill).toMatchObject({ deprecated: false, deprecationReason: null, deprecatedAt: null });
    expectOk(await reg.send(alice, "Publish-Version", version("csv-kit", "0.2.0")));
    expect((await reg.counts(bob)).deprecated).toBe(0);
  });

  it("transfers a skill: only the publisher can, and afterwards only the new publisher can change it", async () => {
    expectOk(await reg.send(alice, "Register-Skill", { name: "handover", description: "changes hands" }));
    expectError(
      await reg.send(bob, "Transfer-Skill", { name: "handover", to: bob.address }),
      "E_NOT_PUBLISHER",
    );
    expectError(
      await reg.send(alice, "Transfer-Skill", { name: "handover", to: "not-an-address" }),
      "E_INVALID_ADDRESS",
    );
    expectError(await reg.send(alice, "Transfer-Skill", { name: "handover" }), "E_MISSING_FIELD");
    expectError(
      await reg.send(alice, "Transfer-Skill", { name: "gone", to: bob.address }),
      "E_SKILL_NOT_FOUND",
    );

    const t = expectOk(await reg.send(alice, "Transfer-Skill", { name: "handover", to: bob.address }));
    expect(t.skill.publisher).toBe(bob.address);
    expect(t.previousPublisher).toBe(alice.address);

    expectError(await reg.send(alice, "Publish-Version", version("handover", "1.0.0")), "E_NOT_PUBLISHER");
    const v = expectOk(await reg.send(bob, "Publish-Version", version("handover", "1.0.0")));
    expect(v.version.publishedBy).toBe(bob.address);
  });

  it("accepts an Ethereum address as the new publisher", async () => {
    expectOk(await reg.send(bob, "Register-Skill", { name: "to-eth", description: "goes to an EVM wallet" }));
    const eth = `0x${"ab".repeat(20)}`;
    expect(expectOk(await reg.send(bob, "Transfer-Skill", { name: "to-eth", to: eth })).skill.publisher).toBe(
      eth,
    );
  });
});

describe("List-Skills and Search-Skills", () => {
  let listed: Registry;
  const names = ["alpha", "beta", "delta", "epsilon", "gamma"];

  beforeAll(async () => {
    // A process of its own, so that the page arithmetic does not depend on the other tests.
    const pid = await spawnProcess(net, owner, "registry-pages");
    await deployRegistry(owner, pid, "pages-test-1");
    listed = new Registry(pid);
    for (const [i, name] of names.entries()) {
      const by = i % 2 === 0 ? alice : bob;
      expectOk(
        await listed.send(by, "Register-Skill", {
          name,
          description: `${name.toUpperCase()} helper for ${i % 2 === 0 ? "Spreadsheets" : "Slides"}`,
          tags: i < 3 ? ["office", `t${i}`] : [`t${i}`],
        }),
      );
    }
    expectOk(await listed.send(alice, "Deprecate-Skill", { name: "delta", reason: "old" }));
  });

  it("lists in name order, in pages that end exactly at the last skill", async () => {
    const p1 = expectOk(await listed.read(alice, "List-Skills", { limit: 2 }));
    expect(p1.skills.map((s: Body) => s.name)).toEqual(["alpha", "beta"]);
    expect(p1.nextCursor).toBe("beta");
    expect(p1.total).toBe(5);
    const p2 = expectOk(await listed.read(alice, "List-Skills", { limit: 2, cursor: p1.nextCursor }));
    expect(p2.skills.map((s: Body) => s.name)).toEqual(["delta", "epsilon"]);
    const p3 = expectOk(await listed.read(alice, "List-Skills", { limit: 2, cursor: p2.nextCursor }));
    expect(p3.skills.map((s: Body) => s.name)).toEqual(["gamma"]);
    expect(p3.nextCursor).toBeNull();

    const exact = expectOk(await listed.read(alice, "List-Skills", { limit: 5 }));
    expect(exact.skills).toHaveLength(5);
    expect(exact.nextCursor).toBeNull();
    const four = expectOk(await listed.read(alice, "List-Skills", { limit: 4 }));
    expect(four.nextCursor).toBe("epsilon");

    expect(expectOk(await listed.read(alice, "List-Skills", {})).skills).toHaveLength(5);
    const past = expectOk(await listed.read(alice, "List-Skills", { cursor: "zzz" }));
    expect(past).toMatchObject({ skills: [], nextCursor: null, total: 5 });
    // A cursor need not be a current name: paging stays stable if the skill it named changes.
    expect(expectOk(await listed.read(alice, "List-Skills", { cursor: "c", limit: 1 })).skills[0].name).toBe(
      "delta",
    );
    // Deprecated skills are listed, and flagged.
    expect(exact.skills[2]).toMatchObject({ name: "delta", deprecated: true });
  });

  it("refuses limits outside 1..100 and malformed cursors (E_INVALID_FIELD)", async () => {
    for (const limit of [0, 101, 1.5, "5", -1]) {
      expectError(await listed.read(alice, "List-Skills", { limit }), "E_INVALID_FIELD");
    }
    expect(expectOk(await listed.read(alice, "List-Skills", { limit: 100 })).skills).toHaveLength(5);
    expectError(await listed.read(alice, "List-Skills", { cursor: 5 }), "E_INVALID_FIELD");
    expectError(await listed.read(alice, "List-Skills", { cursor: "c".repeat(65) }), "E_INVALID_FIELD");
    expectError(await listed.read(alice, "List-Skills", { offset: 2 }), "E_UNKNOWN_FIELD");
  });

  it("searches by tag, name prefix, text and publisher, skipping deprecated skills unless asked", async () => {
    const names_ = async (q: object) =>
      expectOk(await listed.read(alice, "Search-Skills", q)).skills.map((s: Body) => s.name);
    expect(await names_({ tag: "office" })).toEqual(["alpha", "beta"]); // delta is deprecated
    expect(await names_({ tag: "office", includeDeprecated: true })).toEqual(["alpha", "beta", "delta"]);
    expect(await names_({ name: "e" })).toEqual(["epsilon"]);
    expect(await names_({ name: "zeta" })).toEqual([]);
    expect(await names_({ query: "spreadsheets" })).toEqual(["alpha", "gamma"]); // delta is deprecated
    expect(await names_({ query: "HELPER slides" })).toEqual(["beta", "epsilon"]);
    expect(await names_({ query: "t4" })).toEqual(["gamma"]); // tags are searchable text
    expect(await names_({ publisher: bob.address, includeDeprecated: true })).toEqual(["beta", "epsilon"]);
    expect(await names_({ tag: "office", query: "slides" })).toEqual(["beta"]);
    expect(await names_({ tag: "nothing-here" })).toEqual([]);
  });

  it("pages search results with a cursor that is null exactly after the last match", async () => {
    const p1 = expectOk(await listed.read(alice, "Search-Skills", { query: "helper", limit: 2 }));
    expect(p1.skills.map((s: Body) => s.name)).toEqual(["alpha", "beta"]);
    expect(p1.nextCursor).toBe("beta");
    const p2 = expectOk(
      await listed.read(alice, "Search-Skills", { query: "helper", limit: 2, cursor: "beta" }),
    );
    expect(p2.skills.map((s: Body) => s.name)).toEqual(["epsilon", "gamma"]);
    expect(p2.nextCursor).toBeNull(); // delta (deprecated) is skipped, and nothing follows gamma
  });

  it("refuses searches without a filter or with invalid filters", async () => {
    expectError(await listed.read(alice, "Search-Skills", {}), "E_MISSING_FIELD");
    expectError(await listed.read(alice, "Search-Skills", { tag: "Office" }), "E_INVALID_TAG");
    expectError(await listed.read(alice, "Search-Skills", { name: "A*" }), "E_INVALID_NAME");
    expectError(await listed.read(alice, "Search-Skills", { query: "q".repeat(129) }), "E_FIELD_TOO_LARGE");
    expectError(await listed.read(alice, "Search-Skills", { publisher: "me" }), "E_INVALID_ADDRESS");
    expectError(await listed.read(alice, "Search-Skills", { query: "x", limit: 0 }), "E_INVALID_FIELD");
  });
});

describe("Export-State and Import-State", () => {
  /** Import-State fills only a sealed registry: a second process, deployed empty and not opened. */
  let fresh: Registry;
  beforeAll(async () => {
    const pid = await spawnProcess(net, owner, "registry-import-target");
    await deployRegistry(owner, pid, "protocol-test-import", { open: false });
    fresh = new Registry(pid);
  });

  it("Import-State is the owner's (E_NOT_OWNER); Export-State is anyone's, as every read (1.4.0)", async () => {
    expectError(await reg.send(alice, "Import-State", { skills: [] }), "E_NOT_OWNER");
    const byOwner = expectOk(await reg.read(owner, "Export-State", { limit: 2 }));
    expect(expectOk(await reg.send(alice, "Export-State", { limit: 2 }))).toEqual(byOwner);
    // A dry-run's Owner proves nothing: none (recent HyperBEAM) reads the same page.
    expect(expectOk(await reg.read(alice, "Export-State", { limit: 2 }, [], { owner: "" }))).toEqual(byOwner);
  });

  it("export in pages that end exactly at the last skill", async () => {
    const total = (await reg.counts(owner)).skills!;
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 20; i++) {
      const page: Body = expectOk(
        await reg.read(owner, "Export-State", cursor ? { cursor, limit: 3 } : { limit: 3 }),
      );
      expect(page.total).toBe(total);
      seen.push(...page.skills.map((s: Body) => s.name));
      cursor = page.nextCursor;
      if (cursor === null) break;
      expect(page.skills).toHaveLength(3);
    }
    expect(cursor).toBeNull();
    expect(seen).toHaveLength(total);
    expect([...seen].sort()).toEqual(seen);
    expectError(await reg.read(owner, "Export-State", { limit: 101 }), "E_INVALID_FIELD");
  });

  it("validate every imported record before changing anything", async () => {
    const before = await fresh.counts(owner);
    const good = {
      name: "imported-ok",
      publisher: alice.address,
      description: "fine",
      tags: [],
      createdAt: 1,
      updatedAt: 2,
      versions: [],
    };
    const bad = {
      ...good,
      name: "imported-bad",
      versions: [
        {
          version: "1.0.0",
          txId: "short",
          contentHash: contentHash(1),
          publishedAt: 1,
          publishedBy: alice.address,
        },
      ],
    };
    const r = expectError(
      await fresh.send(owner, "Import-State", { skills: [good, bad] }),
      "E_INVALID_TX_ID",
    );
    expect(r.body.error.field).toBe("skills[1].versions[0].txId");
    const dupVersion = {
      ...good,
      versions: [
        {
          version: "1.0.0",
          txId: txId("a"),
          contentHash: contentHash(1),
          publishedAt: 1,
          publishedBy: alice.address,
        },
        {
          version: "1.0.0+b",
          txId: txId("b"),
          contentHash: contentHash(2),
          publishedAt: 2,
          publishedBy: alice.address,
        },
      ],
    };
    expectError(await fresh.send(owner, "Import-State", { skills: [dupVersion] }), "E_VERSION_EXISTS");
    expectError(await fresh.send(owner, "Import-State", { skills: [good, good] }), "E_SKILL_EXISTS");
    expectError(
      await fresh.send(owner, "Import-State", { skills: [{ ...good, extra: 1 }] }),
      "E_UNKNOWN_FIELD",
    );
    expectError(
      await fresh.send(owner, "Import-State", { skills: [{ ...good, createdAt: -1 }] }),
      "E_INVALID_FIELD",
    );
    expectError(await fresh.send(owner, "Import-State", {}), "E_MISSING_FIELD");
    expectError(
      await fresh.send(owner, "Import-State", { skills: { name: "not-a-list" } }),
      "E_INVALID_FIELD",
    );
    expect(await fresh.counts(owner)).toEqual(before);
  });

  it("caps versions per skill at 1000 (E_LIMIT_REACHED)", async () => {
    const versions = Array.from({ length: 1000 }, (_, i) => ({
      version: `1.${i}.0`,
      txId: txId(`v${i}`),
      contentHash: contentHash(i),
      publishedAt: 1_700_000_000_000 + i,
      publishedBy: alice.address,
    }));
    const rec = {
      name: "prolific",
      publisher: alice.address,
      description: "many versions",
      createdAt: 1,
      updatedAt: 2,
      versions,
    };
    expect(expectOk(await fresh.send(owner, "Import-State", { skills: [rec] })).imported).toBe(1);
    const tooMany = { ...rec, versions: [...versions, { ...versions[0]!, version: "3.0.0" }] };
    expectError(await fresh.send(owner, "Import-State", { skills: [tooMany] }), "E_LIMIT_REACHED");
    // Reads and writes need the registry open.
    expectOk(await fresh.send(owner, "State-Open", {}));
    const got = expectOk(await fresh.read(alice, "Get-Skill", { name: "prolific" }));
    expect(got.skill.versions).toHaveLength(1000);
    expect(got.skill.latestVersion).toBe("1.999.0");
    expectError(await fresh.send(alice, "Publish-Version", version("prolific", "2.0.0")), "E_LIMIT_REACHED");
  });
});

describe("robustness", () => {
  it("ignores a dry-run of a write: reads are never recorded", async () => {
    const r = await reg.read(alice, "Register-Skill", { name: "dry-only", description: "never stored" });
    expectOk(r);
    expectError(await reg.read(alice, "Get-Skill", { name: "dry-only" }), "E_SKILL_NOT_FOUND");
  });

  it("answers nothing to a message without a registry action", async () => {
    const id = messageId(
      await alice.client.message({
        process: reg.processId,
        signer: alice.client.signer,
        tags: [{ name: "Action", value: "Not-A-Registry-Action" }],
        data: "{}",
      }),
    );
    const res = await alice.client.result({ process: reg.processId, message: id });
    expect(res.Error).toBeFalsy();
    expect(res.Messages).toEqual([]);
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canonicalJson as canonicalize, digestOf as digestOfEntries } from "../../providers/stateTransfer";
import { type Devnet, withDevnet } from "../../test/support/devnet";
import {
  type Actor,
  actor,
  type Body,
  contentHash,
  deployRegistry,
  expectError,
  expectOk,
  Registry,
  type Reply,
  spawnProcess,
  txId,
} from "./support/registry";

let net: Devnet & { cleanup(): Promise<void> };
let owner: Actor;
let alice: Actor;
let bob: Actor;
/** The registry the data moves out of: skills of every shape. */
let source: Registry;

/** The digest the deploy computes (providers/stateTransfer.ts) over exported entries. */
const digestOf = (entries: Body[]) => digestOfEntries(entries).digest;

/** Every page of State-Export, in order. */
async function exportPages(r: Registry, maxBytes?: number): Promise<Body[]> {
  const pages: Body[] = [];
  let cursor: string | null = null;
  do {
    const page: Body = expectOk(
      await r.read(owner, "State-Export", { cursor, ...(maxBytes ? { maxBytes } : {}) }),
    );
    pages.push(page);
    cursor = page.nextCursor;
  } while (cursor !== null && pages.length < 1000);
  return pages;
}

const info = async (r: Registry): Promise<Body> => expectOk(await r.read(alice, "State-Info")).stateTransfer;

/**
 * What `from` reported of itself to `r` (State-Confirm), once its reply has arrived: it travels as
 * messages between the two processes (r's question, from's answer), delivered by the messenger.
 */
async function reportOf(r: Registry, from: string): Promise<Body> {
  for (let i = 0; i < 300; i++) {
    const st = await info(r);
    expect(st.source?.process).toBe(from);
    if (st.source.report) return st.source.report;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no report from ${from} reached ${r.processId}`);
}

/** An Eval in a plain process the owner spawned; fails on an evaluation error. */
async function evalIn(pid: string, code: string): Promise<void> {
  const r = await owner.client.send(pid, [{ name: "Action", value: "Eval" }], code);
  expect(r.Error, "Eval").toBeFalsy();
}

async function newRegistry(name: string, open: boolean): Promise<Registry> {
  const pid = await spawnProcess(net, owner, name);
  await deployRegistry(owner, pid, `${name}-1`, { open });
  return new Registry(pid);
}

const WRITES: [string, (r: string) => object][] = [
  ["Register-Skill", () => ({ name: "late-comer", description: "too late" })],
  [
    "Publish-Version",
    () => ({ name: "pdf-tools", version: "9.0.0", txId: txId("late"), contentHash: contentHash(99) }),
  ],
  ["Update-Skill", () => ({ name: "pdf-tools", description: "changed" })],
  ["Deprecate-Skill", () => ({ name: "pdf-tools" })],
  ["Transfer-Skill", () => ({ name: "pdf-tools", to: bob.address })],
];

/** Moves `from` into a new sealed registry page by page and opens it; returns the new registry. */
async function move(from: Registry, to: Registry, maxBytes?: number): Promise<void> {
  const pages = await exportPages(from, maxBytes);
  for (const [i, page] of pages.entries()) {
    const r = expectOk(
      await to.send(owner, "State-Import", { from: from.processId, page: i + 1, entries: page.entries }),
    );
    expect(r).toMatchObject({ page: i + 1, duplicate: false });
  }
  const d = (await info(from)).digest;
  expect((await info(to)).digest).toBe(d);
  expectOk(await to.send(owner, "State-Open", { digest: d }));
}

beforeAll(async () => {
  net = await withDevnet();
  owner = actor(net, "registry-owner");
  alice = actor(net, "alice");
  bob = actor(net, "bob");
  source = await newRegistry("transfer-source", true);
  const reg = (by: Actor, data: object) => source.send(by, "Register-Skill", data);
  expectOk(
    await reg(alice, {
      name: "pdf-tools",
      description: 'Read, split\tand merge PDF files\nwith "quotes", a \\ backslash, é ✓ 😀 and / slash',
      tags: ["pdf", "documents"],
      version: "1.0.0+build.5",
      txId: txId("pdf-1"),
      contentHash: contentHash(1),
    }),
  );
  for (const [i, v] of ["1.1.0-rc.1", "1.1.0-rc.2", "1.1.0", "2.0.0-beta.11", "2.0.0-beta.2"].entries()) {
    expectOk(
      await source.send(alice, "Publish-Version", {
        name: "pdf-tools",
        version: v,
        txId: txId(`pdf-${v}`),
        contentHash: contentHash(10 + i),
      }),
    );
  }
  expectOk(await reg(bob, { name: "csv-kit", description: "CSV parsing", tags: ["csv"] }));
  expectOk(await source.send(bob, "Deprecate-Skill", { name: "csv-kit", reason: "use\ttable-kit\n" }));
  expectOk(await reg(bob, { name: "agent-mail", description: "Mail for agents — 電子メール" }));
  expectOk(await source.send(bob, "Transfer-Skill", { name: "agent-mail", to: alice.address }));
  for (let i = 0; i < 12; i++) {
    expectOk(
      await reg(i % 2 ? alice : bob, {
        name: `bulk-${i}`,
        description: `bulk skill ${i} ${"x".repeat(300)}`,
        version: "0.1.0",
        txId: txId(`bulk-${i}`),
        contentHash: contentHash(100 + i),
      }),
    );
  }
}, 300_000);

afterAll(async () => {
  await net?.cleanup();
});

/** Every registry read, each as a dry-run and as a message. */
const READS: [string, object][] = [
  ["Get-Skill", { name: "pdf-tools" }],
  ["List-Skills", {}],
  ["Search-Skills", { query: "pdf" }],
  ["Export-State", {}],
];

/** A registry being filled answers no registry read, names where to read (or nothing), and answers Info and State-*. */
async function expectNoReads(r: Registry, readFrom: string | undefined): Promise<void> {
  for (const [action, data] of READS) {
    for (const reply of [await r.read(bob, action, data), await r.send(bob, action, data)]) {
      const e = expectError(reply, "E_SEALED");
      expect(e.tags["Read-From"], action).toBe(readFrom);
      if (readFrom) expect(e.body.error.message).toContain(`read from process ${readFrom}`);
      else expect(e.body.error.message).toMatch(/not open yet, and holds nothing to read/);
    }
  }
  for (const [action, data] of [
    ["Info", {}],
    ["State-Info", {}],
    ["State-Export", { maxBytes: 1024 }],
  ] as const) {
    const ok = await r.read(bob, action, data);
    expectOk(ok);
    expect(ok.tags["Read-From"], action).toBe(readFrom);
  }
}

describe("a new registry is sealed", () => {
  it("refuses every write and every read with E_SEALED, answers Info and State-*, and opens", async () => {
    const r = await newRegistry("transfer-sealed", false);
    expect(await info(r)).toMatchObject({
      protocol: 2,
      status: "sealed",
      digest: "0".repeat(64),
      entries: 0,
      bytes: 0,
      successor: null,
      predecessor: null,
      import: null,
      source: null,
      owner: owner.address,
    });
    for (const [action, data] of WRITES) {
      const e = expectError(await r.send(alice, action, data(r.processId)), "E_SEALED");
      expect(e.body.error.message).toMatch(/not open yet/);
      expect(e.body.error.message).toMatch(/AoActiveProcess|retry later/);
    }
    // Nothing imported yet: no process to read from is known.
    await expectNoReads(r, undefined);
    expect(expectOk(await r.read(alice, "Info")).status).toBe("sealed");
    expectError(await r.send(owner, "State-Freeze", { successor: source.processId }), "E_SEALED");
    expectError(await r.send(owner, "State-Unfreeze", {}), "E_SEALED");
    // Nothing imported: no digest needed, but a wrong one is still refused.
    expectError(await r.send(owner, "State-Open", { digest: "1".repeat(64) }), "E_DIGEST_MISMATCH");
    expect(expectOk(await r.send(owner, "State-Open", {}))).toMatchObject({ already: false });
    expect(expectOk(await r.send(owner, "State-Open", {}))).toMatchObject({ already: true });
    expectOk(await r.send(alice, "Register-Skill", { name: "first", description: "the first write" }));
    expect(expectOk(await r.read(alice, "Get-Skill", { name: "first" })).skill.name).toBe("first");
    // Open: imports are closed, the old way and the new.
    expectError(await r.send(owner, "Import-State", { skills: [] }), "E_IMPORT_CLOSED");
    expectError(
      await r.send(owner, "State-Import", { from: source.processId, page: 1, entries: [] }),
      "E_IMPORT_CLOSED",
    );
    expectError(await r.send(owner, "State-Confirm", { from: source.processId }), "E_IMPORT_CLOSED");
  });
});

describe("freezing", () => {
  it("refuses every write with E_MOVED naming the successor, tags every reply Moved-To, and unfreezes", async () => {
    const r = await newRegistry("transfer-freeze", true);
    expectOk(await r.send(alice, "Register-Skill", { name: "pdf-tools", description: "mine" }));
    const successor = (await newRegistry("transfer-freeze-next", false)).processId;
    const frozen = expectOk(await r.send(owner, "State-Freeze", { successor }));
    expect(frozen).toMatchObject({ already: false, stateTransfer: { status: "frozen", successor } });
    expect(expectOk(await r.send(owner, "State-Freeze", { successor })).already).toBe(true);
    expectError(await r.send(owner, "State-Freeze", { successor: source.processId }), "E_MOVE_CONFLICT");

    const replies: Reply[] = [];
    for (const [action, data] of WRITES) {
      const e = expectError(await r.send(alice, action, data(r.processId)), "E_MOVED");
      expect(e.body.error.message).toContain(successor);
      replies.push(e);
    }
    const got = await r.read(bob, "Get-Skill", { name: "pdf-tools" });
    expect(expectOk(got).skill.description).toBe("mine");
    const infoReply = await r.read(bob, "Info");
    expect(expectOk(infoReply)).toMatchObject({ status: "frozen", successor });
    // Anyone's, as every read: the process being emptied is whole.
    const exported = await r.send(bob, "State-Export", {});
    expect(expectOk(exported).entries).toHaveLength(1);
    replies.push(
      got,
      infoReply,
      await r.read(bob, "List-Skills"),
      await r.read(bob, "State-Info"),
      expectError(await r.read(bob, "Get-Skill", { name: "nope" }), "E_SKILL_NOT_FOUND"),
      expectError(await r.read(bob, "Get-Skill", "{bad json"), "E_BAD_JSON"),
      exported,
      expectError(await r.send(owner, "State-Open", {}), "E_MOVED"),
    );
    for (const reply of replies) expect(reply.tags["Moved-To"], reply.tags.Action).toBe(successor);
    expectError(
      await r.send(owner, "State-Import", { from: source.processId, page: 1, entries: [] }),
      "E_IMPORT_CLOSED",
    );

    expect(expectOk(await r.send(owner, "State-Unfreeze", {}))).toMatchObject({
      already: false,
      stateTransfer: { status: "open", successor: null },
    });
    expect(expectOk(await r.send(owner, "State-Unfreeze", {})).already).toBe(true);
    const after = await r.send(alice, "Update-Skill", { name: "pdf-tools", description: "mine again" });
    expectOk(after);
    expect(after.tags["Moved-To"]).toBeUndefined();
    expect(expectOk(await r.read(bob, "Info")).successor).toBeNull();
  });
});

describe("State-Export", () => {
  it("pages deterministically within maxBytes, covering every entry once, with the digest recomputed here", async () => {
    const all = (await exportPages(source)).flatMap((p) => p.entries);
    const st = await info(source);
    expect(all).toHaveLength(st.entries);
    expect(digestOf(all)).toBe(st.digest);
    expect(all.reduce((n: number, e: Body) => n + Buffer.byteLength(canonicalize(e)), 0)).toBe(st.bytes);
    // Name order, each skill followed by its versions in precedence order.
    const keys = all.map((e: Body) => (e.kind === "skill" ? e.name : `${e.skill}@${e.version}`));
    expect(keys.slice(0, 2)).toEqual(["agent-mail", "bulk-0"]);
    expect(keys.slice(keys.indexOf("pdf-tools"))).toEqual([
      "pdf-tools",
      "pdf-tools@1.0.0+build.5",
      "pdf-tools@1.1.0-rc.1",
      "pdf-tools@1.1.0-rc.2",
      "pdf-tools@1.1.0",
      "pdf-tools@2.0.0-beta.2",
      "pdf-tools@2.0.0-beta.11",
    ]);
    expect(new Set(keys).size).toBe(keys.length);

    const small = await exportPages(source, 1024);
    expect(small.length).toBeGreaterThan(5);
    for (const page of small) {
      const bytes = page.entries.reduce((n: number, e: Body) => n + Buffer.byteLength(canonicalize(e)), 0);
      expect(page.entries.length).toBeGreaterThan(0);
      if (page.entries.length > 1) expect(bytes).toBeLessThanOrEqual(1024);
      expect(page).toMatchObject({ digest: st.digest, total: st.entries });
    }
    expect(small.flatMap((p) => p.entries)).toEqual(all);
    expect(small.at(-1).nextCursor).toBeNull();
    expect(await exportPages(source, 1024)).toEqual(small);

    expectError(await source.read(owner, "State-Export", { maxBytes: 1023 }), "E_INVALID_FIELD");
    expectError(await source.read(owner, "State-Export", { maxBytes: 512 * 1024 + 1 }), "E_INVALID_FIELD");
    expectError(await source.read(owner, "State-Export", { cursor: "not a cursor" }), "E_INVALID_FIELD");

    // Anyone's: a dry-run whose Owner is empty (recent HyperBEAM) or aoconnect's placeholder, and a
    // stranger's signed message, get the same page as the owner.
    for (const claimed of ["", "1234"]) {
      const page = await source.read(bob, "State-Export", { maxBytes: 1024 }, [], { owner: claimed });
      expect(expectOk(page)).toEqual(small[0]);
    }
    expect(expectOk(await source.send(bob, "State-Export", { maxBytes: 1024 }))).toEqual(small[0]);
  });
});

describe("State-Import and State-Open", () => {
  it("key pages by (from, page): duplicates are no-ops, gaps and other sources refused, open checks the digest", async () => {
    const pages = await exportPages(source, 2048);
    expect(pages.length).toBeGreaterThan(2);
    const target = await newRegistry("transfer-target", false);
    const from = source.processId;
    const imp = (page: number, entries: Body[], by = owner, f = from) =>
      target.send(by, "State-Import", { from: f, page, entries });

    const out = expectError(await imp(2, pages[1].entries), "E_PAGE_OUT_OF_ORDER");
    expect(out.body.error.message).toContain("page 1");
    // A registry asked to take one process's state (State-Confirm) takes no other's.
    expectOk(await target.send(owner, "State-Confirm", { from: bob.address }));
    expect(expectError(await imp(1, pages[0].entries), "E_MOVE_CONFLICT").body.error.message).toContain(
      `taking the state of ${bob.address}`,
    );
    expectOk(await target.send(owner, "State-Confirm", { from }));
    expect(expectOk(await imp(1, pages[0].entries))).toMatchObject({
      page: 1,
      duplicate: false,
      stateTransfer: { status: "sealed", import: { from, pages: 1, rollback: false } },
    });
    // Half-filled: no read is answered as if the data were whole; each names the process to read from.
    await expectNoReads(target, from);
    const before = await info(target);
    expect(expectOk(await imp(1, pages[0].entries))).toMatchObject({ duplicate: true });
    expect(await info(target)).toEqual(before);
    expectError(await imp(3, pages[2].entries), "E_PAGE_OUT_OF_ORDER");
    expectError(await imp(2, pages[1].entries, owner, bob.address), "E_MOVE_CONFLICT");
    expectError(await target.send(owner, "State-Confirm", { from: bob.address }), "E_MOVE_CONFLICT");
    for (let i = 1; i < pages.length; i++) expectOk(await imp(i + 1, pages[i].entries));

    const want = (await info(source)).digest;
    expectError(await target.send(owner, "State-Open", {}), "E_MISSING_FIELD");
    expectError(await target.send(owner, "State-Open", { digest: "f".repeat(64) }), "E_DIGEST_MISMATCH");
    expect(await info(target)).toMatchObject({ status: "sealed", digest: want, predecessor: null });
    const opened = expectOk(await target.send(owner, "State-Open", { digest: want }));
    expect(opened.stateTransfer).toMatchObject({
      status: "open",
      predecessor: from,
      import: null,
      digest: want,
    });
    const read = await target.read(bob, "Get-Skill", { name: "pdf-tools" });
    expect(expectOk(read).skill.name).toBe("pdf-tools");
    expect(read.tags["Read-From"]).toBeUndefined();
  });

  it("move a registry whole: same digest, same answers, publishers keep their rights", async () => {
    const target = await newRegistry("transfer-move", false);
    expectOk(await source.send(owner, "State-Freeze", { successor: target.processId }));
    await move(source, target, 4096);
    for (const name of ["pdf-tools", "csv-kit", "agent-mail", "bulk-3"]) {
      const a = expectOk(await source.read(alice, "Get-Skill", { name }));
      const b = expectOk(await target.read(alice, "Get-Skill", { name }));
      expect(b).toEqual(a);
    }
    expect(
      expectOk(await target.read(alice, "Get-Skill", { name: "pdf-tools", version: "1.0.0" })).version,
    ).toEqual(
      expectOk(await source.read(alice, "Get-Skill", { name: "pdf-tools", version: "1.0.0" })).version,
    );
    const listA = expectOk(await source.read(alice, "List-Skills", { limit: 100 }));
    const listB = expectOk(await target.read(alice, "List-Skills", { limit: 100 }));
    expect(listB).toEqual(listA);
    const countsA = expectOk(await source.read(alice, "Info")).counts;
    expect(expectOk(await target.read(alice, "Info")).counts).toEqual(countsA);
    expect(
      expectOk(await target.read(alice, "Search-Skills", { tag: "csv", includeDeprecated: true })).skills,
    ).toHaveLength(1);
    // The publisher writes in the new process; the old one sends writers there.
    expectOk(
      await target.send(alice, "Publish-Version", {
        name: "pdf-tools",
        version: "2.0.0",
        txId: txId("pdf-200"),
        contentHash: contentHash(200),
      }),
    );
    expectError(
      await target.send(owner, "Update-Skill", { name: "pdf-tools", description: "x" }),
      "E_NOT_PUBLISHER",
    );
    const moved = expectError(
      await source.send(alice, "Update-Skill", { name: "pdf-tools", description: "x" }),
      "E_MOVED",
    );
    expect(moved.tags["Moved-To"]).toBe(target.processId);
  });

  it("roll back: a process frozen for its successor takes the successor's state back once the successor confirms it", async () => {
    const next = expectOk(await source.read(alice, "Info")).successor as string;
    const target = new Registry(next);
    const wanted = await info(target); // includes the version published after the move
    expect(wanted.digest).not.toBe((await info(source)).digest);
    // Not on the owner's word alone.
    const refused = expectError(
      await source.send(owner, "State-Import", { from: next, page: 1, entries: [] }),
      "E_NOT_CONFIRMED",
    );
    expect(refused.body.error.message).toContain(`State-Confirm {"from":"${next}"}`);
    // Only the successor's state comes back.
    expectError(await source.send(owner, "State-Confirm", { from: bob.address }), "E_MOVE_CONFLICT");
    expectError(await source.send(owner, "State-Confirm", { from: source.processId }), "E_INVALID_FIELD");
    // The deploy's order: ask first (from then on the old process answers no read and names the new
    // one), then freeze the new one.
    const asked = await source.send(owner, "State-Confirm", { from: next });
    expect(expectOk(asked).stateTransfer).toMatchObject({
      status: "frozen",
      successor: next,
      source: { process: next, report: null },
    });
    await expectNoReads(source, next);
    // The new process answered while still open: that confirms nothing.
    expect(await reportOf(source, next)).toEqual({
      status: "open",
      successor: null,
      digest: wanted.digest,
      entries: wanted.entries,
      bytes: wanted.bytes,
    });
    expectError(
      await source.send(owner, "State-Import", { from: next, page: 1, entries: [] }),
      "E_NOT_CONFIRMED",
    );
    expectOk(await target.send(owner, "State-Freeze", { successor: source.processId }));
    // The process being emptied is whole: it answers reads, tagged Moved-To.
    const whole = await target.read(bob, "Get-Skill", { name: "pdf-tools" });
    expect(expectOk(whole).skill.latestVersion).toBe("2.0.0");
    expect(whole.tags["Moved-To"]).toBe(source.processId);
    expect(whole.tags["Read-From"]).toBeUndefined();
    expectOk(await source.send(owner, "State-Confirm", { from: next }));
    expect(await reportOf(source, next)).toEqual({
      status: "frozen",
      successor: source.processId,
      digest: wanted.digest,
      entries: wanted.entries,
      bytes: wanted.bytes,
    });

    const pages = await exportPages(target, 8192);
    expectError(
      await source.send(owner, "State-Import", { from: next, page: 2, entries: pages[0].entries }),
      "E_PAGE_OUT_OF_ORDER",
    );
    expect((await info(source)).status).toBe("frozen");
    for (const [i, page] of pages.entries()) {
      expectOk(await source.send(owner, "State-Import", { from: next, page: i + 1, entries: page.entries }));
    }
    expect(await info(source)).toMatchObject({
      status: "sealed",
      successor: null,
      import: { from: next, rollback: true },
    });
    await expectNoReads(source, next);
    // The confirmation is the successor's latest answer: asked again once the successor is open again
    // (its move back abandoned), it confirms nothing, and the registry does not open.
    expectOk(await target.send(owner, "State-Unfreeze", {}));
    expectOk(await source.send(owner, "State-Confirm", { from: next }));
    expectError(await source.send(owner, "State-Open", { digest: wanted.digest }), "E_NOT_CONFIRMED");
    expect(await reportOf(source, next)).toMatchObject({ status: "open", digest: wanted.digest });
    expectError(await source.send(owner, "State-Open", { digest: wanted.digest }), "E_NOT_CONFIRMED");
    expectOk(await target.send(owner, "State-Freeze", { successor: source.processId }));
    expectOk(await source.send(owner, "State-Confirm", { from: next }));
    expect(await reportOf(source, next)).toMatchObject({ status: "frozen", digest: wanted.digest });
    expectOk(await source.send(owner, "State-Open", { digest: wanted.digest }));
    expect(await info(source)).toMatchObject({
      status: "open",
      digest: wanted.digest,
      entries: wanted.entries,
      predecessor: next,
      source: null,
    });
    expect(expectOk(await source.read(alice, "Get-Skill", { name: "pdf-tools" })).skill.latestVersion).toBe(
      "2.0.0",
    );
  });
});

describe("the owner cannot rewrite a publisher's skill through the transfer actions (issue 19, point 5)", () => {
  /** The registry's entries with alice's skill `name` handed to the owner and its bundles swapped. */
  const forge = (entries: Body[], name: string) =>
    entries.map((e: Body) =>
      e.kind === "skill" && e.name === name
        ? { ...e, publisher: owner.address }
        : e.kind === "version" && e.skill === name
          ? { ...e, contentHash: contentHash(666), publishedBy: owner.address }
          : e,
    );

  it("refuses a rollback 'from' a plain wallet: frozen for it, the import and the open are refused", async () => {
    const r = await newRegistry("transfer-forge-wallet", true);
    expectOk(
      await r.send(alice, "Register-Skill", {
        name: "victim",
        description: "alice's skill",
        version: "1.0.0",
        txId: txId("victim"),
        contentHash: contentHash(7),
      }),
    );
    const before = await info(r);
    const accomplice = actor(net, "owner-accomplice"); // a wallet the owner holds
    const forged = forge(
      (await exportPages(r)).flatMap((p) => p.entries),
      "victim",
    );
    const forgedDigest = digestOf(forged);
    expect(forgedDigest).not.toBe(before.digest);

    expectOk(await r.send(owner, "State-Freeze", { successor: accomplice.address }));
    const imp = () => r.send(owner, "State-Import", { from: accomplice.address, page: 1, entries: forged });
    expectError(await imp(), "E_NOT_CONFIRMED");
    // Asking a wallet sends a question nobody answers; the wallet answering for itself is not a process.
    expectOk(await r.send(owner, "State-Confirm", { from: accomplice.address }));
    const claim = {
      ok: true,
      stateTransfer: { status: "frozen", successor: r.processId, digest: forgedDigest, entries: 2, bytes: 1 },
    };
    for (const tags of [[], [{ name: "From-Process", value: net.authority }]]) {
      const sent = await accomplice.client.send(
        r.processId,
        [{ name: "Action", value: "State-Info-Response" }, ...tags],
        JSON.stringify(claim),
      );
      expect(sent.Error).toBeFalsy();
      expect(sent.Messages ?? [], "a report is never answered").toEqual([]);
    }
    expect((await info(r)).source).toEqual({ process: accomplice.address, report: null });
    expectError(await imp(), "E_NOT_CONFIRMED");
    expectError(await r.send(owner, "State-Open", { digest: forgedDigest }), "E_MOVED");
    // Given back its writers, the registry holds alice's skill as she wrote it.
    expectOk(await r.send(owner, "State-Unfreeze", {}));
    expect(await info(r)).toMatchObject({ status: "open", digest: before.digest, source: null });
    const skill = expectOk(await r.read(bob, "Get-Skill", { name: "victim" }));
    expect(skill.skill.publisher).toBe(alice.address);
    expect(skill.version.contentHash).toBe(contentHash(7));
  });

  it("takes a report only from the process asked, sent by that process itself", async () => {
    const r = await newRegistry("transfer-forge-process", true);
    const successor = (await newRegistry("transfer-forge-successor", false)).processId;
    expectOk(await r.send(owner, "State-Freeze", { successor }));
    expectOk(await r.send(owner, "State-Confirm", { from: successor }));
    // A sealed registry answers State-Info too: its report arrives, and confirms nothing (not frozen).
    expect(await reportOf(r, successor)).toMatchObject({ status: "sealed", successor: null });
    // Another process, whatever it says, is not the one asked.
    const claim = JSON.stringify({
      ok: true,
      stateTransfer: {
        status: "frozen",
        successor: r.processId,
        digest: "f".repeat(64),
        entries: 9,
        bytes: 9,
      },
    });
    // A witness registry: the other process registers a skill there after it sent its claim, and the
    // messenger delivers a process's messages in order, so once the skill is there the claim reached r.
    const witness = await newRegistry("transfer-forge-witness", true);
    const other = await owner.client.spawnWithCode(
      net,
      `Send({ Target = "${r.processId}", Action = "State-Info-Response", Data = [[${claim}]] })
       Send({ Target = "${witness.processId}", Action = "Register-Skill", Data = [[{"name":"delivered","description":"x"}]] })`,
    );
    for (let i = 0; i < 300 && (await witness.counts(bob)).skills === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(expectOk(await witness.read(bob, "Get-Skill", { name: "delivered" })).skill.publisher).toBe(other);
    expect((await info(r)).source.report).toMatchObject({ status: "sealed", digest: "0".repeat(64) });
    expectError(
      await r.send(owner, "State-Import", { from: successor, page: 1, entries: [] }),
      "E_NOT_CONFIRMED",
    );
  });

  it("takes only a well-formed report of at most 16 KiB from the process asked", async () => {
    const r = await newRegistry("transfer-reports", true);
    // The process asked runs the owner's code here, so that it can send what no registry sends.
    const asked = await owner.client.spawnWithCode(net, "Ready = true");
    expectOk(await r.send(owner, "State-Freeze", { successor: asked }));
    expectOk(await r.send(owner, "State-Confirm", { from: asked }));
    const good = { status: "frozen", successor: r.processId, digest: "a".repeat(64), entries: 2, bytes: 300 };
    const bad: unknown[] = [
      "not json",
      { ok: false, stateTransfer: good },
      { ok: true },
      { ok: true, stateTransfer: { ...good, status: "melting" } },
      { ok: true, stateTransfer: { ...good, successor: "not an address" } },
      { ok: true, stateTransfer: { ...good, digest: "A".repeat(64) } },
      { ok: true, stateTransfer: { ...good, entries: -1 } },
      { ok: true, stateTransfer: { ...good, bytes: 1.5 } },
      { ok: true, stateTransfer: { ...good, padding: "x".repeat(16 * 1024) } },
    ];
    const witness = await newRegistry("transfer-reports-witness", true);
    const send = (target: string, action: string, data: unknown) =>
      `Send({ Target = "${target}", Action = "${action}", Data = [==[${typeof data === "string" ? data : JSON.stringify(data)}]==] })`;
    const code = [
      ...bad.map((b) => send(r.processId, "State-Info-Response", b)),
      send(witness.processId, "Register-Skill", { name: "delivered", description: "x" }),
    ].join("\n");
    await evalIn(asked, code);
    for (let i = 0; i < 300 && (await witness.counts(bob)).skills === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect((await witness.counts(bob)).skills).toBe(1);
    expect((await info(r)).source).toEqual({ process: asked, report: null });
    // The same report, well formed, is taken.
    await evalIn(asked, send(r.processId, "State-Info-Response", { ok: true, stateTransfer: good }));
    expect(await reportOf(r, asked)).toEqual(good);
  });

  it("opens a rollback only with the state the successor confirmed, whatever digest the owner sends", async () => {
    const a = await newRegistry("transfer-forge-a", true);
    expectOk(
      await a.send(alice, "Register-Skill", {
        name: "victim",
        description: "alice's skill",
        version: "1.0.0",
        txId: txId("victim-a"),
        contentHash: contentHash(8),
      }),
    );
    const b = await newRegistry("transfer-forge-b", false);
    expectOk(await a.send(owner, "State-Freeze", { successor: b.processId }));
    await move(a, b);
    // The rollback, confirmed by b itself.
    expectOk(await b.send(owner, "State-Freeze", { successor: a.processId }));
    expectOk(await a.send(owner, "State-Confirm", { from: b.processId }));
    const confirmed = await reportOf(a, b.processId);
    expect(confirmed).toMatchObject({ status: "frozen", successor: a.processId });
    const entries = (await exportPages(b)).flatMap((p) => p.entries);
    const forged = forge(entries, "victim");
    expectOk(await a.send(owner, "State-Import", { from: b.processId, page: 1, entries: forged }));
    expect((await info(a)).digest).toBe(digestOf(forged));
    const e = expectError(
      await a.send(owner, "State-Open", { digest: digestOf(forged) }),
      "E_DIGEST_MISMATCH",
    );
    expect(e.body.error.message).toContain(`not the state process ${b.processId} confirmed`);
    expectError(await a.send(owner, "State-Open", { digest: confirmed.digest }), "E_DIGEST_MISMATCH");
    expect((await info(a)).status).toBe("sealed");
    // Sending the successor's own entries again (they replace by key) brings back the confirmed state.
    expectOk(await a.send(owner, "State-Import", { from: b.processId, page: 2, entries }));
    expectOk(await a.send(owner, "State-Open", { digest: confirmed.digest }));
    const skill = expectOk(await a.read(bob, "Get-Skill", { name: "victim" }));
    expect(skill.skill.publisher).toBe(alice.address);
    expect(skill.version.contentHash).toBe(contentHash(8));
  });
});

describe("owner-only actions and hostile pages", () => {
  it("refuse everyone but the owner", async () => {
    const r = await newRegistry("transfer-owner", false);
    const cases: [string, object][] = [
      ["State-Freeze", { successor: source.processId }],
      ["State-Unfreeze", {}],
      ["State-Confirm", { from: source.processId }],
      ["State-Import", { from: source.processId, page: 1, entries: [] }],
      ["State-Open", {}],
    ];
    for (const [action, data] of cases) expectError(await r.send(alice, action, data), "E_NOT_OWNER");
    expect(await info(r)).toMatchObject({ status: "sealed", source: null });
  });

  it("install nothing from a page with a bad entry, and refuse a page over 1 MiB", async () => {
    const r = await newRegistry("transfer-hostile", false);
    const entries = (await exportPages(source)).flatMap((p) => p.entries);
    const from = source.processId;
    // A version entry in the middle of the page, after good entries.
    const at = entries.findIndex((e: Body, i: number) => i >= 2 && e.kind === "version");
    const bad: [Body, string, string][] = [
      [{ ...entries[at], txId: "short" }, "E_INVALID_TX_ID", `entries[${at}].txId`],
      [{ ...entries[at], kind: "other" }, "E_INVALID_FIELD", `entries[${at}].kind`],
      [{ ...entries[at], extra: 1 }, "E_UNKNOWN_FIELD", `entries[${at}].extra`],
      [{ ...entries[at], publishedAt: -1 }, "E_INVALID_FIELD", `entries[${at}].publishedAt`],
    ];
    for (const [entry, code, field] of bad) {
      const page = [...entries.slice(0, at), entry, ...entries.slice(at + 1)];
      const e = expectError(await r.send(owner, "State-Import", { from, page: 1, entries: page }), code);
      expect(e.body.error.field).toBe(field);
    }
    const orphan = entries.find((e: Body) => e.kind === "version");
    const o = expectError(
      await r.send(owner, "State-Import", { from, page: 1, entries: [orphan] }),
      "E_SKILL_NOT_FOUND",
    );
    expect(o.body.error.message).toContain(orphan.skill);
    const skill = entries.find((e: Body) => e.kind === "skill" && !e.deprecated);
    expectError(
      await r.send(owner, "State-Import", {
        from,
        page: 1,
        entries: [{ ...skill, deprecationReason: "no" }],
      }),
      "E_INVALID_FIELD",
    );
    const huge = await r.send(owner, "State-Import", {
      from,
      page: 1,
      entries: [{ pad: "x".repeat(1024 * 1024) }],
    });
    expectError(huge, "E_MESSAGE_TOO_LARGE");
    expect(await info(r)).toMatchObject({
      status: "sealed",
      entries: 0,
      import: null,
      digest: "0".repeat(64),
    });
  });
});

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

describe("a new registry is sealed", () => {
  it("refuses every write with E_SEALED, answers reads and State-Info, and opens", async () => {
    const r = await newRegistry("transfer-sealed", false);
    expect(await info(r)).toMatchObject({
      protocol: 1,
      status: "sealed",
      digest: "0".repeat(64),
      entries: 0,
      bytes: 0,
      successor: null,
      predecessor: null,
      import: null,
      owner: owner.address,
    });
    for (const [action, data] of WRITES) {
      const e = expectError(await r.send(alice, action, data(r.processId)), "E_SEALED");
      expect(e.body.error.message).toMatch(/not open yet/);
      expect(e.body.error.message).toMatch(/AoActiveProcess|retry later/);
    }
    expectError(await r.read(alice, "Get-Skill", { name: "pdf-tools" }), "E_SKILL_NOT_FOUND");
    expect(expectOk(await r.read(alice, "Info")).status).toBe("sealed");
    expectError(await r.send(owner, "State-Freeze", { successor: source.processId }), "E_SEALED");
    expectError(await r.send(owner, "State-Unfreeze", {}), "E_SEALED");
    // Nothing imported: no digest needed, but a wrong one is still refused.
    expectError(await r.send(owner, "State-Open", { digest: "1".repeat(64) }), "E_DIGEST_MISMATCH");
    expect(expectOk(await r.send(owner, "State-Open", {}))).toMatchObject({ already: false });
    expect(expectOk(await r.send(owner, "State-Open", {}))).toMatchObject({ already: true });
    expectOk(await r.send(alice, "Register-Skill", { name: "first", description: "the first write" }));
    // Open: imports are closed, the old way and the new.
    expectError(await r.send(owner, "Import-State", { skills: [] }), "E_IMPORT_CLOSED");
    expectError(
      await r.send(owner, "State-Import", { from: source.processId, page: 1, entries: [] }),
      "E_IMPORT_CLOSED",
    );
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
    replies.push(
      got,
      infoReply,
      await r.read(bob, "List-Skills"),
      await r.read(bob, "State-Info"),
      expectError(await r.read(bob, "Get-Skill", { name: "nope" }), "E_SKILL_NOT_FOUND"),
      expectError(await r.read(bob, "Get-Skill", "{bad json"), "E_BAD_JSON"),
      expectError(await r.send(bob, "State-Export", {}), "E_NOT_OWNER"),
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
    expect(expectOk(await imp(1, pages[0].entries))).toMatchObject({
      page: 1,
      duplicate: false,
      stateTransfer: { status: "sealed", import: { from, pages: 1 } },
    });
    const before = await info(target);
    expect(expectOk(await imp(1, pages[0].entries))).toMatchObject({ duplicate: true });
    expect(await info(target)).toEqual(before);
    expectError(await imp(3, pages[2].entries), "E_PAGE_OUT_OF_ORDER");
    expectError(await imp(2, pages[1].entries, owner, bob.address), "E_MOVE_CONFLICT");
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

  it("roll back: a process frozen for its successor takes the successor's state back", async () => {
    const next = expectOk(await source.read(alice, "Info")).successor as string;
    const target = new Registry(next);
    const wanted = await info(target); // includes the version published after the move
    expect(wanted.digest).not.toBe((await info(source)).digest);
    // The new process freezes for the old one; the old one imports from it.
    expectOk(await target.send(owner, "State-Freeze", { successor: source.processId }));
    const pages = await exportPages(target, 8192);
    expectError(
      await source.send(owner, "State-Import", { from: next, page: 2, entries: pages[0].entries }),
      "E_PAGE_OUT_OF_ORDER",
    );
    expect((await info(source)).status).toBe("frozen");
    for (const [i, page] of pages.entries()) {
      expectOk(await source.send(owner, "State-Import", { from: next, page: i + 1, entries: page.entries }));
    }
    expect(await info(source)).toMatchObject({ status: "sealed", successor: null, import: { from: next } });
    expectOk(await source.send(owner, "State-Open", { digest: wanted.digest }));
    expect(await info(source)).toMatchObject({
      status: "open",
      digest: wanted.digest,
      entries: wanted.entries,
      predecessor: next,
    });
    expect(expectOk(await source.read(alice, "Get-Skill", { name: "pdf-tools" })).skill.latestVersion).toBe(
      "2.0.0",
    );
  });
});

describe("owner-only actions and hostile pages", () => {
  it("refuse everyone but the owner", async () => {
    const r = await newRegistry("transfer-owner", false);
    const cases: [string, object][] = [
      ["State-Freeze", { successor: source.processId }],
      ["State-Unfreeze", {}],
      ["State-Export", {}],
      ["State-Import", { from: source.processId, page: 1, entries: [] }],
      ["State-Open", {}],
    ];
    for (const [action, data] of cases) expectError(await r.send(alice, action, data), "E_NOT_OWNER");
    expectError(await r.read(alice, "State-Export", {}), "E_NOT_OWNER");
    expect((await info(r)).status).toBe("sealed");
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

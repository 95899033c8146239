/**
 * The registry's state layout (issue 13): few Lua objects whatever the number of skills, the upgrade of a
 * registry that runs the previous layout (moved by the state-transfer protocol, and loaded in place by an
 * Eval), the chunked map under it, and Search-Skills's scan budget. On live instances of the real aos
 * module, without HTTP or signatures (fast).
 *
 * `fixtures/registry-layout1.lua` is the registry as deployed before this change (commit d2d4ee9,
 * protocol 1.2.0, a table per skill), bundled: what a live registry runs when the next deploy meets it.
 * `fixtures/registry-layout2.lua` is the first code of issue 13 (commit f3fbf32, protocol 1.3.0, layout
 * 2: the chunked maps without the search texts that layout 3 keeps beside the skills' chunks).
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { canonicalJson, digestOf } from "../../providers/stateTransfer";
import { startAosInstance } from "../../test/support/aosInstance";
import { type Body, contentHash, registryCode, txId } from "./support/registry";

const OLD_CODE = readFileSync(path.join(__dirname, "fixtures", "registry-layout1.lua"), "utf8");
const LAYOUT2_CODE = readFileSync(path.join(__dirname, "fixtures", "registry-layout2.lua"), "utf8");
const NEW_CODE = registryCode().code;
const ALICE = "A".repeat(43);
const BOB = "B".repeat(43);
const CAROL = "C".repeat(43);
const SCAN = 1000; // LIMITS.searchScan

async function registry(code: string, label: string) {
  const p = await startAosInstance(label);
  await p.load(code);
  /** A request as a real message, or as a dry-run; returns the reply's body. */
  const call = async (action: string, data: unknown, { from = p.owner, dry = false } = {}): Promise<Body> => {
    const m = p.msg([{ name: "Action", value: action }], JSON.stringify(data), from);
    const r = dry ? await p.vm.dryRun(m, p.env) : await p.evaluate(m);
    expect(r.Error, `${action} raised`).toBeFalsy();
    return JSON.parse(r.Messages[0]!.Data as string);
  };
  const ok = async (action: string, data: unknown, opts?: { from?: string; dry?: boolean }) => {
    const body = await call(action, data, opts);
    expect(body.ok, `${action}: ${JSON.stringify(body.error)}`).toBe(true);
    return body;
  };
  /** The value a dry-run Eval returns. */
  const lua = async (code: string) => {
    const r = await p.vm.dryRun(p.msg([{ name: "Action", value: "Eval" }], code), p.env);
    expect(r.Error, "Eval raised").toBeFalsy();
    return String((r.Output as { data?: unknown }).data);
  };
  return { ...p, call, ok, lua };
}
type Registry = Awaited<ReturnType<typeof registry>>;

/** Lua: "ok <chunks>" when every chunk of the skills map has its search text (layout 3), as computed afresh. */
const TEXTS_MATCH = `local cm, record, map, bad = require("registry.chunkmap"), require("registry.record"), Registry.skills, 0
  if not map.texts or #map.texts ~= #map.chunks then return "texts missing" end
  for c = 1, #map.chunks do
    local v, parts = cm.view(map, c), {}
    for i, k in ipairs(v.keys) do parts[i] = record.text(k, v.vals[i]) end
    if map.texts[c] ~= table.concat(parts, "\\n"):lower() then bad = bad + 1 end
  end
  cm.flushAll()
  return bad == 0 and ("ok " .. #map.chunks) or (bad .. " texts differ")`;

const skillName = (i: number) => `skill-${String(i).padStart(3, "0")}`;

/** Every kind of record the live actions write: versions with pre-releases and build metadata, updates,
 * deprecations (one undone), transfers, a skill without versions, shared and unique tags. */
async function populate(r: Registry) {
  await r.ok("State-Open", {});
  for (let i = 0; i < 40; i++) {
    const first = i % 7 === 6 ? {} : { version: "1.0.0", txId: txId(`s${i}`), contentHash: contentHash(i) };
    await r.ok(
      "Register-Skill",
      {
        name: skillName(i),
        description: `Skill ${i}: ${i % 3 === 0 ? "reads PDF files" : "sends email"} for agents`,
        tags: i % 5 === 0 ? [] : [`t${i % 4}`, i % 2 ? "odd" : "even", `only-${i}`],
        ...first,
      },
      { from: i % 2 ? ALICE : BOB },
    );
  }
  const by = (i: number) => (i % 2 ? ALICE : BOB);
  for (const i of [1, 2, 3, 8]) {
    for (const version of ["2.0.0-rc.1", "1.0.1+build.7", "2.0.0", "3.0.0-alpha"]) {
      await r.ok(
        "Publish-Version",
        { name: skillName(i), version, txId: txId(`${i}${version}`), contentHash: contentHash(i * 100) },
        { from: by(i) },
      );
    }
  }
  await r.ok(
    "Update-Skill",
    { name: skillName(4), description: "Now converts spreadsheets", tags: ["csv", "t0"] },
    { from: by(4) },
  );
  await r.ok("Update-Skill", { name: skillName(9), tags: [] }, { from: by(9) });
  await r.ok("Deprecate-Skill", { name: skillName(10), reason: "use skill-011" }, { from: by(10) });
  await r.ok("Deprecate-Skill", { name: skillName(12) }, { from: by(12) });
  await r.ok("Deprecate-Skill", { name: skillName(12), deprecated: false }, { from: by(12) });
  await r.ok("Transfer-Skill", { name: skillName(14), to: CAROL }, { from: by(14) });
  await r.ok("Transfer-Skill", { name: skillName(15), to: CAROL }, { from: by(15) });
}

const SEARCHES = [
  { tag: "t1" },
  { tag: "odd", query: "pdf" },
  { name: "skill-01" },
  { query: "email agents" },
  { publisher: CAROL },
  { publisher: ALICE, includeDeprecated: true },
  { query: "spreadsheets", tag: "csv" },
  { tag: "nothing" },
];

/** Everything a client can read, through every read action, page by page. */
async function snapshot(r: Registry) {
  const dry = { dry: true };
  const info = await r.ok("Info", {}, dry);
  const listed: Body[] = [];
  let cursor: string | null = null;
  do {
    const page: Body = await r.ok("List-Skills", cursor ? { limit: 7, cursor } : { limit: 7 }, dry);
    listed.push(...page.skills);
    cursor = page.nextCursor;
  } while (cursor);
  const gets: Body[] = [];
  for (const s of listed) {
    gets.push(await r.ok("Get-Skill", { name: s.name }, dry));
    gets.push(await r.call("Get-Skill", { name: s.name, version: "1.0.0" }, dry));
  }
  const searches: Body[] = [];
  for (const filters of SEARCHES) {
    let after: string | null = null;
    do {
      const page: Body = await r.ok(
        "Search-Skills",
        { ...filters, limit: 3, ...(after ? { cursor: after } : {}) },
        dry,
      );
      // Fields 1.3.0 adds; 1.2.0 has no budget, and these registries are far below it.
      const { examined: _e, exhausted: _x, ...rest } = page;
      searches.push(rest);
      after = page.nextCursor;
    } while (after);
  }
  const entries: Body[] = [];
  let at: string | null = null;
  do {
    const page: Body = await r.ok(
      "State-Export",
      at ? { maxBytes: 2048, cursor: at } : { maxBytes: 2048 },
      dry,
    );
    entries.push(...page.entries);
    at = page.nextCursor;
  } while (at);
  const records: Body[] = [];
  let rc: string | null = null;
  do {
    const page: Body = await r.ok("Export-State", rc ? { limit: 4, cursor: rc } : { limit: 4 }, dry);
    records.push(...page.skills);
    rc = page.nextCursor;
  } while (rc);
  const { digest, entries: count, bytes } = (await r.ok("State-Info", {}, dry)).stateTransfer;
  return {
    counts: info.counts,
    listed,
    gets,
    searches,
    entries,
    records,
    transfer: { digest, count, bytes },
  };
}

describe("a registry running the previous layout (1.2.0, a table per skill)", () => {
  it("moves into the new layout through State-Export / State-Import, and through Export-State / Import-State, losing nothing", async () => {
    const old = await registry(OLD_CODE, "layout1-source");
    await populate(old);
    const before = await snapshot(old);
    expect(before.listed).toHaveLength(40);
    expect(before.transfer.digest).toBe(digestOf(before.entries).digest);

    // The deploy's move: entry pages in the export order, then State-Open with the old digest.
    const moved = await registry(NEW_CODE, "layout2-moved");
    const pageBytes = 4096;
    let cursor: string | null = null;
    let page = 0;
    do {
      const out: Body = await old.ok(
        "State-Export",
        cursor ? { maxBytes: pageBytes, cursor } : { maxBytes: pageBytes },
        { dry: true },
      );
      await moved.ok("State-Import", { from: "F".repeat(43), page: ++page, entries: out.entries });
      cursor = out.nextCursor;
    } while (cursor);
    expect(page).toBeGreaterThan(3);
    await moved.ok("State-Open", { digest: before.transfer.digest });
    expect(await snapshot(moved)).toEqual(before);

    // The older way: whole records.
    const imported = await registry(NEW_CODE, "layout2-imported");
    for (let i = 0; i < before.records.length; i += 9) {
      await imported.ok("Import-State", { skills: before.records.slice(i, i + 9) });
    }
    await imported.ok("State-Open", {});
    expect(await snapshot(imported)).toEqual(before);
  }, 120_000);

  it("is converted in place by an Eval of the new code, keeping every record and its digest, and takes writes after", async () => {
    const r = await registry(OLD_CODE, "layout1-in-place");
    await populate(r);
    expect(await r.lua("return tostring(Registry.layout) .. ' ' .. #Registry.names")).toBe("nil 40");
    const before = await snapshot(r);

    await r.load(NEW_CODE);
    expect(
      await r.lua(
        "return Registry.layout .. ' ' .. tostring(Registry.names) .. ' ' .. tostring(Registry.byTag)",
      ),
    ).toBe("3 nil nil");
    expect(await r.lua(TEXTS_MATCH)).toMatch(/^ok /);
    expect(await snapshot(r)).toEqual(before);
    await r.load(NEW_CODE); // loading again changes nothing
    expect(await snapshot(r)).toEqual(before);

    await r.ok(
      "Publish-Version",
      { name: skillName(3), version: "4.0.0", txId: txId("late"), contentHash: contentHash(7) },
      { from: ALICE },
    );
    await r.ok(
      "Register-Skill",
      { name: "after-upgrade", description: "written by the new code", tags: ["t1"] },
      { from: CAROL },
    );
    await r.ok("Update-Skill", { name: skillName(1), tags: ["t2"] }, { from: ALICE });
    const after = await snapshot(r);
    expect(after.transfer.digest).toBe(digestOf(after.entries).digest);
    // skill-001 lost its tags only-1 and odd... (odd stays in use), the new skill brought none new.
    expect(after.counts).toEqual({
      ...before.counts,
      skills: 41,
      versions: before.counts.versions + 1,
      tags: before.counts.tags - 1,
    });
    expect((await r.ok("Get-Skill", { name: skillName(3) }, { dry: true })).skill.latestVersion).toBe(
      "4.0.0",
    );
    expect(
      (await r.ok("Search-Skills", { tag: "t1" }, { dry: true })).skills.map((s: Body) => s.name),
    ).toContain("after-upgrade");
  }, 120_000);
});

describe("a registry running layout 2 (1.3.0, without the search texts)", () => {
  it("is converted in place by an Eval of the new code, its texts computed, every read and the digest kept, and takes writes after", async () => {
    const r = await registry(LAYOUT2_CODE, "layout2-in-place");
    await populate(r);
    expect(await r.lua("return Registry.layout .. ' ' .. tostring(Registry.skills.texts)")).toBe("2 nil");
    const before = await snapshot(r);
    const budget = await r.ok("Search-Skills", { tag: "odd", query: "pdf", limit: 2 }, { dry: true });

    await r.load(NEW_CODE);
    expect(await r.lua("return Registry.layout")).toBe("3");
    expect(await r.lua(TEXTS_MATCH)).toMatch(/^ok /);
    expect(await snapshot(r)).toEqual(before);
    // The same candidates examined, the same page: 1.3.0's budget is unchanged.
    expect(await r.ok("Search-Skills", { tag: "odd", query: "pdf", limit: 2 }, { dry: true })).toEqual(
      budget,
    );
    await r.load(NEW_CODE); // loading again changes nothing
    expect(await snapshot(r)).toEqual(before);

    await r.ok(
      "Register-Skill",
      { name: "after-texts", description: "Finds ZEBRAS in PDF files", tags: ["odd"] },
      { from: CAROL },
    );
    await r.ok("Update-Skill", { name: skillName(1), description: "Now also zebras" }, { from: ALICE });
    expect(await r.lua(TEXTS_MATCH)).toMatch(/^ok /);
    const after = await snapshot(r);
    expect(after.transfer.digest).toBe(digestOf(after.entries).digest);
    expect(after.counts).toEqual({ ...before.counts, skills: 41 });
    const found = await r.ok("Search-Skills", { tag: "odd", query: "zebras" }, { dry: true });
    expect(found.skills.map((s: Body) => s.name)).toEqual(["after-texts", skillName(1)]);
  }, 120_000);
});

describe("a failure while a request's changes are encoded", () => {
  it("answers E_INTERNAL alone, and leaves nothing decoded for the next request", async () => {
    const r = await registry(NEW_CODE, "encode-failure");
    await r.ok("State-Open", {});
    await r.ok("Register-Skill", { name: "before", description: "fine", tags: ["a"] });
    await r.load(`local record = require("registry.record")
      BrokenEncode, record.encode = record.encode, function() error("encoding failed") end`);
    const m = r.msg(
      [{ name: "Action", value: "Register-Skill" }],
      JSON.stringify({ name: "broken", description: "x", tags: ["a"] }),
    );
    const res = await r.evaluate(m);
    expect(res.Error).toBeFalsy();
    expect(res.Messages).toHaveLength(1);
    const body = JSON.parse(res.Messages[0]!.Data as string);
    expect(body.error.code).toBe("E_INTERNAL");
    expect(body.error.message).toContain("encoding failed");
    await r.load(`require("registry.record").encode = BrokenEncode`);
    await r.ok("Register-Skill", { name: "after", description: "fine again", tags: ["a"] });
    expect(
      (await r.ok("Search-Skills", { tag: "a" }, { dry: true })).skills.map((s: Body) => s.name),
    ).toEqual(["after", "before"]);
    expect(await r.call("Get-Skill", { name: "broken" }, { dry: true })).toMatchObject({
      error: { code: "E_SKILL_NOT_FOUND" },
    });
  }, 60_000);
});

/** Fills a sealed registry with `n` generated skills (2 versions each) through Import-State, then opens it. */
async function fill(r: Registry, n: number, descriptionOf: (i: number) => string) {
  for (let from = 0; from < n; from += 100) {
    const skills = [];
    for (let i = from; i < Math.min(n, from + 100); i++) {
      const by = i % 3 ? ALICE : BOB;
      skills.push({
        name: `bulk-${String(i).padStart(5, "0")}`,
        publisher: by,
        description: descriptionOf(i),
        tags: [`g${i % 4}`, "bulk"],
        createdAt: i,
        updatedAt: i,
        deprecated: i % 10 === 9,
        versions: ["1.0.0", "1.1.0"].map((version) => ({
          version,
          txId: txId(`b${i}${version}`),
          contentHash: contentHash(i),
          publishedAt: i,
          publishedBy: by,
        })),
      });
    }
    await r.ok("Import-State", { skills });
  }
  await r.ok("State-Open", {});
}

describe("at 3,000 skills", () => {
  const N = 3000;
  // "needle" is in exactly three descriptions, far apart.
  const NEEDLES = [17, 1530, 2990];
  const text = (i: number) => `Generated skill ${i} for agents${NEEDLES.includes(i) ? " with a needle" : ""}`;
  let r: Registry;

  /** Every page of a search: the names found, and each page's examined and exhausted. */
  async function allPages(filters: object) {
    const names: string[] = [];
    const pages: { examined: number; exhausted: boolean; found: number }[] = [];
    let cursor: string | null = null;
    do {
      const page: Body = await r.ok(
        "Search-Skills",
        { limit: 20, ...filters, ...(cursor ? { cursor } : {}) },
        { dry: true },
      );
      names.push(...page.skills.map((s: Body) => s.name));
      pages.push({ examined: page.examined, exhausted: page.exhausted, found: page.skills.length });
      cursor = page.nextCursor;
      expect(pages.length).toBeLessThan(50);
    } while (cursor);
    return { names, pages };
  }

  it("the state holds a few objects per hundred skills (a Lua walk from Registry)", async () => {
    r = await registry(NEW_CODE, "layout2-3000");
    await fill(r, N, text);
    const [tables, strings] = (
      await r.lua(`local seen, tables, strings, stack = {}, 0, 0, { Registry }
        while #stack > 0 do
          local v = table.remove(stack)
          if type(v) == "string" and not seen[v] then seen[v] = true; strings = strings + 1
          elseif type(v) == "table" and not seen[v] then
            seen[v] = true; tables = tables + 1
            for k, x in next, v do stack[#stack + 1] = k; stack[#stack + 1] = x end
          end
        end
        return tables .. " " .. strings`)
    )
      .split(" ")
      .map(Number);
    // Layout 1 held about 10 per skill (a table per skill, per version, per tag list, their strings).
    expect(tables).toBeLessThan(30);
    expect((tables! + strings!) / N).toBeLessThan(0.5);
    expect((await r.ok("Info", {}, { dry: true })).counts).toEqual({
      skills: N,
      versions: 2 * N,
      deprecated: N / 10,
      publishers: 2,
      tags: 5,
    });
  }, 120_000);

  it("a text search examines at most the budget per page, says so, and finds every match across pages", async () => {
    const { names, pages } = await allPages({ query: "needle" });
    expect(names).toEqual(NEEDLES.map((i) => `bulk-${String(i).padStart(5, "0")}`));
    expect(pages.length).toBeGreaterThanOrEqual(3);
    // Every page but the last ran out of budget, exactly: a chunk rejected whole is cut at the budget.
    for (const p of pages.slice(0, -1)) expect(p).toMatchObject({ exhausted: true, examined: SCAN });
    expect(pages.at(-1)!.exhausted).toBe(false);
    // Each skill examined once: the pages partition the registry.
    expect(pages.reduce((n, p) => n + p.examined, 0)).toBe(N);
    // Deprecated skills (i % 10 == 9) are skipped unless asked for, through the same budget.
    const deprecatedToo = await allPages({ query: "generated", includeDeprecated: true, limit: 100 });
    expect(deprecatedToo.names).toHaveLength(N);
  }, 120_000);

  it("an index search (tag, publisher) with a text filter is bounded the same way", async () => {
    const byTag = await allPages({ tag: "g1", query: "needle" });
    expect(byTag.names).toEqual(["bulk-00017"]);
    for (const p of byTag.pages) expect(p.examined).toBeLessThanOrEqual(SCAN);
    expect(byTag.pages.reduce((n, p) => n + p.examined, 0)).toBe(N / 4);
    const byPublisher = await allPages({ publisher: BOB, query: "needle" });
    expect(byPublisher.names).toEqual(["bulk-01530"]); // Bob publishes i % 3 == 0
    expect(byPublisher.pages.reduce((n, p) => n + p.examined, 0)).toBe(N / 3);
    // Without a filter that can reject, a page fills at once.
    const plain: Body = await r.ok("Search-Skills", { tag: "bulk", limit: 5 }, { dry: true });
    expect(plain).toMatchObject({ examined: 6, exhausted: false, nextCursor: "bulk-00004" });
  }, 120_000);
});

describe("the search budget, at and around its boundary", () => {
  const name = (i: number) => `bulk-${String(i).padStart(5, "0")}`;
  /** Every filter that draws its candidates differently: names, a tag's index, a publisher's. */
  const FILTERS = [{ query: "needle" }, { tag: "bulk", query: "needle" }, { name: "bulk", query: "needle" }];

  // n candidates; only the last one matches. Up to the budget, one request examines them all and is not
  // exhausted; past it, the first request examines the budget exactly and the next one the rest.
  for (const n of [SCAN - 1, SCAN, SCAN + 1, SCAN + 100]) {
    it(`${n} candidates, the last one a match`, async () => {
      const r = await registry(NEW_CODE, `budget-${n}`);
      await fill(r, n, (i) => (i === n - 1 ? "the needle" : `generated skill ${i}`));
      for (const filters of FILTERS) {
        const ask = (cursor?: string) =>
          r.ok(
            "Search-Skills",
            { ...filters, includeDeprecated: true, ...(cursor ? { cursor } : {}) },
            { dry: true },
          );
        const first: Body = await ask();
        const what = JSON.stringify(filters);
        if (n <= SCAN) {
          expect(first, what).toMatchObject({ examined: n, exhausted: false, nextCursor: null });
          expect(
            first.skills.map((s: Body) => s.name),
            what,
          ).toEqual([name(n - 1)]);
        } else {
          expect(first, what).toMatchObject({ examined: SCAN, exhausted: true, nextCursor: name(SCAN - 1) });
          expect(first.skills, what).toEqual([]);
          const second: Body = await ask(first.nextCursor);
          expect(second, what).toMatchObject({ examined: n - SCAN, exhausted: false, nextCursor: null });
          expect(
            second.skills.map((s: Body) => s.name),
            what,
          ).toEqual([name(n - 1)]);
        }
      }
    }, 120_000);
  }
});

describe("an Export-State page, at and around its byte limit", () => {
  const LIMIT = 512 * 1024; // LIMITS.exportPageBytes: the page's `skills` array as JSON, exactly
  const version = (skill: number, i: number) => ({
    version: `1.${i}.0`,
    txId: txId(`e${skill}v${i}`),
    contentHash: contentHash(skill * 10_000 + i),
    publishedAt: 1_700_000_000_000 + i,
    publishedBy: ALICE,
  });
  const record = (skill: number, versions: number, description: string) => ({
    name: `big-${skill}`,
    publisher: ALICE,
    description,
    tags: [],
    createdAt: 1,
    updatedAt: 2,
    deprecated: false,
    versions: Array.from({ length: versions }, (_, i) => version(skill, i)),
  });
  /** A record as Export-State replies it (its absent deprecation fields null), and its size there. */
  const exported = (rec: Body) => ({ ...rec, deprecationReason: null, deprecatedAt: null });
  const size = (rec: Body) => Buffer.byteLength(canonicalJson(exported(rec)));

  /** Three records whose page is `LIMIT + over` bytes (a fourth follows them). */
  function records(over: number) {
    const two = [record(1, 1000, "first"), record(2, 1000, "second")];
    const used = 2 + two.reduce((n, rec) => n + size(rec) + 1, 0); // "[" "]" and a comma after each
    let versions = 1000;
    while (size(record(3, versions, "x")) > LIMIT - used) versions--;
    const third = record(3, versions, "x".repeat(LIMIT - used - size(record(3, versions, "")) + over));
    return [...two, third, record(4, 1, "the next one")];
  }

  for (const over of [0, 1]) {
    it(`a page of ${LIMIT + over} bytes ${over ? "stops before its third record" : "holds all three records"}`, async () => {
      const r = await registry(NEW_CODE, `export-bytes-${over}`);
      const recs = records(over);
      expect(2 + recs.slice(0, 3).reduce((n, rec) => n + size(rec), 0) + 2).toBe(LIMIT + over);
      for (const rec of recs) await r.ok("Import-State", { skills: [rec] });
      await r.ok("State-Open", {});
      const page: Body = await r.ok("Export-State", { limit: 100 }, { dry: true });
      expect(page.skills).toEqual(recs.slice(0, over ? 2 : 3).map(exported)); // the sizes computed here are theirs
      const bytes = Buffer.byteLength(JSON.stringify(page.skills));
      expect(bytes).toBeLessThanOrEqual(LIMIT);
      expect(page.skills).toHaveLength(over ? 2 : 3);
      expect(bytes).toBe(over ? LIMIT + over - size(recs[2]!) - 1 : LIMIT);
      expect(page.nextCursor).toBe(over ? "big-2" : "big-3");
    }, 120_000);
  }
});

describe("registry/chunkmap.lua", () => {
  it("keeps keys in order across random sets, deletes, splits and merges, flushed in batches, with each chunk's text, and finds their chunks", async () => {
    const r = await registry(NEW_CODE, "chunkmap");
    const out = await r.lua(`local cm = require("registry.chunkmap")
      local saved, savedText = cm.CHUNK_BYTES, cm.textOf
      cm.CHUNK_BYTES = 200
      cm.textOf = function(keys, _, from, to) return table.concat(keys, "\\n", from, to) end
      local map, ref, problems, seed = cm.new(true), {}, {}, 7
      local function rnd(n) seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n + 1 end
      local function problem(s) problems[#problems + 1] = s end
      for round = 1, 400 do
        for _ = 1, rnd(25) do
          local key = string.format("k%04d", rnd(round < 200 and 600 or 60))
          if rnd(3) == 1 then
            if cm.delete(map, key) ~= (ref[key] ~= nil) then problem("delete " .. key) end
            ref[key] = nil
          else
            local v = string.rep(string.char(96 + rnd(26)), rnd(60))
            if cm.set(map, key, v) ~= (ref[key] ~= nil) then problem("set " .. key) end
            ref[key] = v
          end
          local probe = string.format("k%04d", rnd(600))
          if cm.get(map, probe) ~= ref[probe] then problem("get in batch " .. probe) end
        end
        cm.flushAll()
        local keys = {}
        for k in pairs(ref) do keys[#keys + 1] = k end
        table.sort(keys)
        local i = 0
        for k, v in cm.each(map) do
          i = i + 1
          if keys[i] ~= k or ref[k] ~= v then problem("order at " .. i) end
        end
        if i ~= #keys or map.n ~= #keys then problem("count " .. i .. " " .. map.n .. " " .. #keys) end
        for c = 1, #map.chunks do
          local v = cm.view(map, c)
          if #v.keys == 0 or #v.keys ~= map.sizes[c] then problem("size of chunk " .. c) end
          if v.keys[1] < map.first[c] or (map.first[c + 1] and v.keys[#v.keys] >= map.first[c + 1]) then problem("bounds of chunk " .. c) end
          if #map.chunks[c] > cm.CHUNK_BYTES + 80 then problem("chunk " .. c .. " holds " .. #map.chunks[c] .. " bytes") end
          if map.texts[c] ~= table.concat(v.keys, "\\n") then problem("text of chunk " .. c) end
        end
        -- locateFrom, galloping through keys in order, agrees with locate.
        local at, probe = 1, 0
        while true do
          probe = probe + rnd(round % 2 == 0 and 3 or 120)
          if probe > 610 then break end
          local key = string.format("k%04d", probe)
          at = cm.locateFrom(map, key, at)
          if at ~= cm.locate(map, key) then problem("locateFrom " .. key) end
        end
        cm.flushAll()
      end
      cm.CHUNK_BYTES, cm.textOf = saved, savedText
      if #map.texts ~= #map.chunks then problem("texts " .. #map.texts .. " for " .. #map.chunks .. " chunks") end
      local n = #map.chunks
      return #problems == 0 and ("ok " .. n .. " " .. map.n) or table.concat(problems, "; ", 1, math.min(5, #problems))`);
    const [verdict, chunks, entries] = out.split(" ");
    expect(verdict, out).toBe("ok");
    // Deleting most keys at the end (60 of 600 stay reachable) must not leave a chunk per survivor.
    expect(Number(chunks)).toBeLessThan(Math.max(4, Number(entries) / 2));
  }, 60_000);
});

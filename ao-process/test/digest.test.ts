/**
 * The state-transfer primitives in the real aos module (one live instance, without HTTP: the fastest way
 * to run Lua there): SHA-256 against Node's, the canonical encoding of every entry shape against RFC 8785
 * as the deploy computes it, the digest over the entries, and what they cost inside aos (printed).
 */
import { createHash } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { canonicalJson as canonicalize, digestOf as digestOfEntries } from "../../providers/stateTransfer";
import { startAosInstance } from "../../test/support/aosInstance";
import { registryCode } from "./support/registry";

/** The deploy's digest (providers/stateTransfer.ts) of entries given as their canonical texts. */
const digestOf = (texts: string[]) =>
  digestOfEntries(texts.map((t) => JSON.parse(t) as Record<string, unknown>)).digest;

type Instance = Awaited<ReturnType<typeof startAosInstance>>;
type Tag = { name: string; value: string };

const sha256 = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");

/** A Lua string literal holding exactly these bytes. */
const luaBytes = (b: Buffer) => `"${[...b].map((x) => `\\${x}`).join("")}"`;

const OWNER_TAGS = (action: string): Tag[] => [{ name: "Action", value: action }];

let p: Instance;

/** Evaluates Lua as a dry-run Eval (records nothing) and returns its result as text, with the wall time. */
async function lua(code: string): Promise<{ out: string; ms: number }> {
  const t = performance.now();
  const r = await p.vm.dryRun(p.msg(OWNER_TAGS("Eval"), code), p.env);
  const ms = performance.now() - t;
  expect(r.Error, code.slice(0, 200)).toBeFalsy();
  return { out: String((r.Output as { data?: unknown }).data), ms };
}

/** Sends a registry request as `from` and returns the parsed reply. */
async function request(action: string, data: unknown, from = p.owner) {
  const r = await p.evaluate(p.msg(OWNER_TAGS(action), JSON.stringify(data), from));
  expect(r.Error).toBeFalsy();
  const m = r.Messages.find((x) =>
    (x.Tags ?? []).some((t) => t.name === "Action" && t.value === `${action}-Response`),
  );
  // biome-ignore lint/suspicious/noExplicitAny: reply bodies are checked by assertions
  return JSON.parse(m!.Data as string) as any;
}

beforeAll(async () => {
  p = await startAosInstance("registry-digest");
  await p.load(registryCode().code);
}, 120_000);

describe("SHA-256 (registry/sha256.lua)", () => {
  it("equals Node's on every padding boundary, multi-block, non-ASCII and binary input", async () => {
    const inputs: Buffer[] = [];
    for (const n of [0, 1, 3, 55, 56, 57, 63, 64, 65, 111, 119, 120, 127, 128, 129, 191, 192, 1000, 4103]) {
      inputs.push(Buffer.from(Array.from({ length: n }, (_, i) => (i * 131 + n * 7) & 0xff)));
    }
    inputs.push(Buffer.from("abc"), Buffer.from("héllo wörld — ✓ 😀 \t\n\0 \u2028", "utf8"));
    inputs.push(Buffer.alloc(64, 0xff), Buffer.alloc(200, 0x80));
    const { out } = await lua(`local sha = require("registry.sha256")
      local out = {}
      for _, s in ipairs({${inputs.map(luaBytes).join(",")}}) do out[#out + 1] = sha.hex(s) end
      return table.concat(out, " ")`);
    expect(out.split(" ")).toEqual(inputs.map(sha256));
    expect(out.split(" ")[0]).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  });

  it("hashes at a measured speed inside aos, faster than aos's own .crypto", async () => {
    const mib = 2;
    const build = `local s = string.rep("abcdefgh", ${mib} * 131072)`;
    const base = await lua(`${build} return tostring(#s)`);
    const own = await lua(`${build} return require("registry.sha256").hex(s)`);
    expect(own.out).toBe(sha256("abcdefgh".repeat(mib * 131072)));
    const ownMBs = (mib * 1.048576) / ((own.ms - base.ms) / 1000);
    // aos's .crypto reads a stream byte by byte through function-call bit operations: 64 KiB is plenty.
    const kib = 64;
    const small = `local s = string.rep("abcdefgh", ${kib * 128})`;
    const base2 = await lua(`${small} return tostring(#s)`);
    const theirs = await lua(
      `${small} local c = require(".crypto") return c.digest.sha2_256(c.utils.stream.fromString(s)).asHex()`,
    );
    expect(theirs.out).toBe(sha256("abcdefgh".repeat(kib * 128)));
    const theirMBs = (kib * 1024e-6) / ((theirs.ms - base2.ms) / 1000);
    console.log(`sha256 in aos: registry ${ownMBs.toFixed(2)} MB/s, aos .crypto ${theirMBs.toFixed(2)} MB/s`);
    expect(ownMBs).toBeGreaterThan(theirMBs);
  });
});

describe("canonical encoding (registry/json.lua)", () => {
  it("escapes strings exactly as JSON.stringify: quote, backslash and C0 controls, nothing else", async () => {
    const all = Buffer.concat([
      Buffer.from(Array.from({ length: 128 }, (_, i) => i)),
      Buffer.from("/ é ✓ 😀 \u2028\u2029 \ufeff", "utf8"),
    ]);
    const { out } = await lua(
      `local json = require("registry.json")
       return json.encode({ z = ${luaBytes(all)}, a = { 1, -2, true, false, json.null, json.array() }, m = {} })`,
    );
    expect(out).toBe(canonicalize({ z: all.toString("utf8"), a: [1, -2, true, false, null, []], m: {} }));
  });
});

describe("entries and the digest", () => {
  const ALICE = "A".repeat(43);
  const BOB = "B".repeat(43);
  const tx = (s: string) => (s.replace(/[^A-Za-z0-9_-]/g, "_") + "x".repeat(43)).slice(0, 43);
  const hash = (n: number) => n.toString(16).padStart(64, "0");

  it("gives every entry shape the bytes RFC 8785 gives, and a digest equal to the sum of their hashes", async () => {
    expect((await request("State-Open", {})).ok).toBe(true);
    const register = (name: string, description: string, from = ALICE, extra = {}) =>
      request("Register-Skill", { name, description, ...extra }, from);
    expect((await register("plain", "a plain skill")).ok).toBe(true);
    expect(
      (
        await register("texty", 'tab\there, newline\nthere, "quotes" \\ slash/ é ✓ 😀 \u2028', BOB, {
          tags: ["z-tag", "a-tag"],
          version: "1.0.0+build.7",
          txId: tx("texty-1"),
          contentHash: hash(1),
        })
      ).ok,
    ).toBe(true);
    for (const v of ["2.0.0-rc.1", "1.10.0", "2.0.0-alpha.beta", "2.0.0"]) {
      const r = await request(
        "Publish-Version",
        { name: "texty", version: v, txId: tx(v), contentHash: hash(2) },
        BOB,
      );
      expect(r.ok).toBe(true);
    }
    expect((await request("Deprecate-Skill", { name: "plain", reason: "use\ttexty\n" }, ALICE)).ok).toBe(
      true,
    );
    expect((await request("Transfer-Skill", { name: "texty", to: ALICE }, BOB)).ok).toBe(true);
    expect((await request("Update-Skill", { name: "texty", tags: [] }, ALICE)).ok).toBe(true);

    const { out } = await lua(`local json, store = require("registry.json"), require("registry.store")
      local entries = store.exportPage(Registry, nil, 512 * 1024)
      local out = {}
      for i, e in ipairs(entries) do out[i] = json.encode(e) end
      return table.concat(out, "\\0")`);
    const texts = out.split("\0");
    const parsed = texts.map((t) => JSON.parse(t));
    expect(parsed.map((e) => (e.kind === "skill" ? e.name : `${e.skill}@${e.version}`))).toEqual([
      "plain",
      "texty",
      "texty@1.0.0+build.7",
      "texty@1.10.0",
      "texty@2.0.0-alpha.beta",
      "texty@2.0.0-rc.1",
      "texty@2.0.0",
    ]);
    for (const [i, t] of texts.entries()) expect(t).toBe(canonicalize(parsed[i]));
    expect(parsed[0]).toMatchObject({ deprecated: true, deprecationReason: "use\ttexty\n", tags: [] });
    expect(parsed[1]).toMatchObject({
      publisher: ALICE,
      deprecationReason: null,
      deprecatedAt: null,
      tags: [],
    });
    expect(Object.keys(parsed[2]).sort()).toEqual(
      ["contentHash", "kind", "publishedAt", "publishedBy", "skill", "txId", "version"].sort(),
    );

    const info = (await request("State-Info", {})).stateTransfer;
    expect(info).toMatchObject({ entries: texts.length, bytes: Buffer.byteLength(texts.join(""), "utf8") });
    expect(info.digest).toBe(digestOf(texts));
  });

  it("is computed once at load for a registry that predates it, equal to the incremental one (timed at 1,000 and 10,000 skills)", async () => {
    const { code } = registryCode();
    let have = 2;
    for (const skills of [1_000, 10_000]) {
      // Skills with a pre-release and a release each, written without hashing (fast), then hashed as a
      // whole: the digest the writes keep must equal the one the load computes from the data.
      await p.load(`local store, sha = require("registry.store"), require("registry.sha256")
        local words = sha.words
        sha.words = function() return { 0, 0, 0, 0, 0, 0, 0, 0 } end
        for i = ${have + 1}, ${skills} do
          local name = string.format("skill-%05d", i)
          local s = store.register(Registry, { name = name, description = "Skill number " .. i .. " does useful things for agents",
            tags = { "bulk", "n" .. (i % 10) } }, "${ALICE}", 1700000000000 + i)
          for _, v in ipairs({ "1.0.0-rc.1", "1.0.0" }) do
            store.publish(Registry, s, require("registry.semver").parse(v), "${tx("bulk")}", "${hash(3)}", 1700000000000 + i, "${ALICE}")
          end
        end
        sha.words = words
        Registry.digest = nil`);
      have = skills;
      const timed = async (lua: string) => {
        const t = performance.now();
        await p.load(lua);
        return performance.now() - t;
      };
      const withDigest = await timed(`Registry.status = nil\n${code}`);
      const baseMs = await timed(code); // loading again: the digest is there, nothing to compute
      const loadMs = withDigest - baseMs;
      const info = (await request("State-Info", {})).stateTransfer;
      expect(info.status).toBe("open"); // a state that predates the protocol stays open
      expect(info.entries).toBe(2 + 5 + (skills - 2) * 3);
      const { out } = await lua(`local json, store = require("registry.json"), require("registry.store")
        local cursor, out = nil, {}
        repeat
          local entries
          entries, cursor = store.exportPage(Registry, cursor and { name = cursor:match("^(.*)/"), index = tonumber(cursor:match("/(%d+)$")) }, 512 * 1024)
          for _, e in ipairs(entries) do out[#out + 1] = json.encode(e) end
        until not cursor
        return table.concat(out, "\\0")`);
      expect(info.digest).toBe(digestOf(out.split("\0")));
      console.log(
        `digest at load: ${skills} skills, ${info.entries} entries, ${(info.bytes / 1e6).toFixed(2)} MB: ${Math.round(loadMs)} ms (beyond the ${Math.round(baseMs)} ms of loading the code)`,
      );
      // The local network stops an evaluation at 10 s of CPU; 10,000 skills come close (see the README).
      if (skills === 1_000) expect(loadMs).toBeLessThan(10_000);
    }
  }, 300_000);
});

describe("State-Import", () => {
  it("installs a 256 KiB page in one evaluation (timed)", async () => {
    const q = await startAosInstance("registry-import-page");
    await q.load(registryCode().code);
    const by = "C".repeat(43);
    const entries: object[] = [];
    let bytes = 0;
    for (let i = 0; bytes < 256 * 1024 - 2048; i++) {
      const skill = {
        kind: "skill",
        name: `page-skill-${i}`,
        publisher: by,
        description: `skill ${i} ${"d".repeat(600)}`,
        tags: ["bulk"],
        createdAt: 1,
        updatedAt: 2,
        deprecated: false,
        deprecationReason: null,
        deprecatedAt: null,
      };
      const versions = [1, 2, 3].map((v) => ({
        kind: "version",
        skill: skill.name,
        version: `${v}.0.0`,
        txId: `tx${i}v${v}`.padEnd(43, "x"),
        contentHash: v.toString(16).padStart(64, "0"),
        publishedAt: 3,
        publishedBy: by,
      }));
      for (const e of [skill, ...versions]) {
        entries.push(e);
        bytes += Buffer.byteLength(canonicalize(e));
      }
    }
    const t = performance.now();
    const r = await q.evaluate(
      q.msg(
        [{ name: "Action", value: "State-Import" }],
        JSON.stringify({ from: "F".repeat(43), page: 1, entries }),
      ),
    );
    const ms = performance.now() - t;
    const body = JSON.parse(r.Messages[0]!.Data as string);
    expect(body.stateTransfer).toMatchObject({ entries: entries.length, bytes, status: "sealed" });
    expect(body.stateTransfer.digest).toBe(digestOf(entries.map(canonicalize)));
    console.log(
      `State-Import of a ${(bytes / 1024).toFixed(0)} KiB page (${entries.length} entries): ${Math.round(ms)} ms`,
    );
    expect(ms).toBeLessThan(10_000);
  }, 120_000);
});

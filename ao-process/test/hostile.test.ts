/**
 * Hostile input to the registry, on the real aos module in the local AO network through aoconnect: JSON
 * that aos's own decoder chokes on, forged senders, an owner reaching for other publishers' skills, text
 * that is not UTF-8, and messages no handler takes. None may trap or hang an evaluation (these tests do
 * not rely on a compute deadline: a hang times them out), raise out of a handler, or change state except
 * as ao-process/README.md says. One network for the file.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Devnet, withDevnet } from "../../test/support/devnet";
import {
  type Actor,
  actor,
  contentHash,
  deployRegistry,
  evalCode,
  expectError,
  expectOk,
  Registry,
  spawnProcess,
  txId,
} from "./support/registry";

let net: Devnet & { cleanup(): Promise<void> };
let owner: Actor;
let alice: Actor;
let bob: Actor;
let reg: Registry;

const JSON_TYPED = [{ name: "Content-Type", value: "application/json" }];

beforeAll(async () => {
  net = await withDevnet();
  owner = actor(net, "registry-owner");
  alice = actor(net, "alice");
  bob = actor(net, "bob");
  const pid = await spawnProcess(net, owner, "registry-hostile");
  await deployRegistry(owner, pid, "hostile-test-1");
  reg = new Registry(pid);
  expectOk(await reg.send(alice, "Register-Skill", { name: "alice-tool", description: "Alice's skill" }));
});

afterAll(async () => {
  await net?.cleanup();
});

/** Runs Lua as the process owner in a dry-run (nothing is recorded) and returns what it printed. */
async function inspect(pid: string, as: Actor, lua: string): Promise<string> {
  const res = await as.client.dryrun({
    process: pid,
    Owner: as.address,
    tags: [{ name: "Action", value: "Eval" }],
    data: lua,
  });
  expect(res.Error, "inspection Eval").toBeFalsy();
  return String((res.Output as { data?: unknown })?.data ?? "");
}

/** `depth` containers nested inside one another: `[[...]]` or `{"a":{"a":...}}`. */
const nested = (depth: number, kind: "array" | "object") =>
  kind === "array"
    ? `${"[".repeat(depth)}${"]".repeat(depth)}`
    : `${'{"a":'.repeat(depth - 1)}{}${"}".repeat(depth - 1)}`;

describe("JSON in Data, with or without Content-Type: application/json", () => {
  // [what, Data, error code]: aos's decoder would trap on every malformed one, and takes any depth.
  const hostile: [string, string, string][] = [
    ["4,000 open brackets", "[".repeat(4000), "E_BAD_JSON"],
    ["3,000 nested unclosed objects", '{"a":'.repeat(3000), "E_BAD_JSON"],
    ["4,000 nested unclosed objects (20 KB)", '{"a":'.repeat(4000), "E_MESSAGE_TOO_LARGE"],
    ["100,000-element wide array (300 KB)", "[1,".repeat(100_000), "E_MESSAGE_TOO_LARGE"],
    ["an unterminated 15,000-character string", `{"name":"${"a".repeat(15_000)}`, "E_BAD_JSON"],
    ["a trailing comma", '{"name":"x",}', "E_BAD_JSON"],
    ["a number with a leading zero", '{"limit":01}', "E_BAD_JSON"],
    ["a number without fraction digits", '{"limit":1.}', "E_BAD_JSON"],
    ...["-", "1e", ".5", "+1", "1.e1", "0x10"].map((n): [string, string, string] => [
      `the number ${n}`,
      `{"limit":${n}}`,
      "E_BAD_JSON",
    ]),
    ["a missing colon", '{"name" "x"}', "E_BAD_JSON"],
    ["an invalid escape", '{"name":"\\x41"}', "E_BAD_JSON"],
    ["a truncated \\u escape", '{"name":"\\u12"}', "E_BAD_JSON"],
    ["a duplicate key", '{"name":"a","name":"b"}', "E_BAD_JSON"],
    ["a raw control character in a string", '{"description":"tab\there"}', "E_BAD_JSON"],
    ["a byte-order mark", '\uFEFF{"name":"x"}', "E_BAD_JSON"],
    ["a key that is a lone surrogate", '{"\\ud800":1}', "E_BAD_JSON"],
    ["an empty array", "[]", "E_BAD_JSON"],
    ["two values", "{} {}", "E_BAD_JSON"],
  ];

  for (const typed of [true, false]) {
    it(`answers hostile and malformed JSON with a clear error and keeps working (${typed ? "typed" : "untyped"})`, async () => {
      const before = await reg.counts(alice);
      for (const [what, data, code] of hostile) {
        const r = await reg.send(alice, "Register-Skill", data, typed ? JSON_TYPED : []);
        expectError(r, code);
        expect(r.body.error.message, what).toMatch(/JSON|bytes/);
      }
      expect(await reg.counts(alice)).toEqual(before);
      expectOk(
        await reg.send(alice, "Register-Skill", { name: `after-${typed}`, description: "still working" }),
      );
    });
  }

  it("reads no owner-only request from anyone but the owner (E_NOT_OWNER before decoding Data)", async () => {
    const wide = `{"skills":[${"1,".repeat(400_000)}1]}`; // 800 KB, under Import-State's 1 MiB
    for (const data of [wide, "[".repeat(4000)]) {
      expectError(await reg.send(alice, "Import-State", data, JSON_TYPED), "E_NOT_OWNER");
      expectError(await reg.send(alice, "State-Import", data, JSON_TYPED), "E_NOT_OWNER");
      // The exports are anyone's reads (1.4.0): measured against 16 KiB, then the bounded decoder.
      expectError(
        await reg.read(alice, "Export-State", data, JSON_TYPED),
        data === wide ? "E_MESSAGE_TOO_LARGE" : "E_BAD_JSON",
      );
      expectError(
        await reg.read(alice, "State-Export", data, JSON_TYPED),
        data === wide ? "E_MESSAGE_TOO_LARGE" : "E_BAD_JSON",
      );
    }
  });

  it("names the nesting limit, and refuses hostile JSON in a dry-run too", async () => {
    const r = expectError(await reg.read(alice, "Info", "[".repeat(4000), JSON_TYPED), "E_BAD_JSON");
    expect(r.body.error.message).toContain("nested deeper than 16 levels");
    expect(expectOk(await reg.read(alice, "Info")).limits.jsonDepth).toBe(16);
  });

  it("decodes nesting up to the limit (16 levels) and refuses one level more", async () => {
    for (const kind of ["array", "object"] as const) {
      // The request object is level 1; `name` holds the other levels.
      const at = (depth: number) => `{"name":${nested(depth - 1, kind)},"description":"x"}`;
      const ok = expectError(await reg.send(alice, "Register-Skill", at(16), JSON_TYPED), "E_INVALID_FIELD");
      expect(ok.body.error.field).toBe("name");
      const deep = expectError(await reg.send(alice, "Register-Skill", at(17), JSON_TYPED), "E_BAD_JSON");
      expect(deep.body.error.message).toContain("nested deeper than 16 levels");
    }
  });

  it("decodes numbers in every RFC 8259 form", async () => {
    for (const [limit, count] of [
      ["2", 2],
      ["2E0", 2],
      ["1.5e1", 15],
      ["30e-1", 3],
      ["40000e-4", 4],
    ] as const) {
      const page = expectOk(await reg.read(alice, "List-Skills", `{"limit":${limit}}`));
      expect(page.skills.length, limit).toBe(Math.min(count, page.total));
    }
    const r = expectError(await reg.read(alice, "List-Skills", '{"limit":-0}'), "E_INVALID_FIELD");
    expect(r.body.error.field).toBe("limit");
  });

  it("decodes escapes and long strings exactly", async () => {
    const escaped = `${"\\u00e9".repeat(500)} \\ud83d\\ude00 \\"q\\" \\\\ \\/ \\t\\n`;
    const r = expectOk(
      await reg.send(alice, "Register-Skill", `{"name":"escapes","description":"${escaped}"}`, JSON_TYPED),
    );
    expect(r.skill.description).toBe(`${"é".repeat(500)} 😀 "q" \\ / \t\n`);
    // 1,024 bytes of text is the limit: 513 two-byte characters are 1,026 bytes.
    expectError(
      await reg.send(alice, "Register-Skill", `{"name":"too-long","description":"${"\\u00e9".repeat(513)}"}`),
      "E_FIELD_TOO_LARGE",
    );
  });
});

describe("who sent a message", () => {
  it("is the signing wallet when it tags its message From-Process = the network's authority", async () => {
    const forged = [{ name: "From-Process", value: net.authority }];
    // Registry.send also checks that the reply goes to alice, not to the authority she named.
    const r = expectOk(
      await reg.send(alice, "Register-Skill", { name: "forged-sender", description: "who am I" }, forged),
    );
    expect(r.skill.publisher).toBe(alice.address);
    expectError(await reg.send(alice, "Import-State", { skills: [] }, forged), "E_NOT_OWNER");
    expectError(
      await reg.send(bob, "Update-Skill", { name: "alice-tool", description: "bob was here" }, forged),
      "E_NOT_PUBLISHER",
    );
  });

  it("cannot be a wallet's claim to be the owner, another wallet or a process (aos drops it unanswered)", async () => {
    const agent = await spawnProcess(net, bob, "some-process");
    for (const claimed of [owner.address, alice.address, agent]) {
      const res = await bob.client.send(
        reg.processId,
        [
          { name: "Action", value: "Transfer-Skill" },
          { name: "From-Process", value: claimed },
        ],
        JSON.stringify({ name: "alice-tool", to: bob.address }),
      );
      expect(res.Error).toBeFalsy();
      expect(res.Messages, `claiming ${claimed}`).toEqual([]);
    }
    expect(expectOk(await reg.read(bob, "Get-Skill", { name: "alice-tool" })).skill.publisher).toBe(
      alice.address,
    );
  });

  it("is the process when the messenger pushes a process's message", async () => {
    const agent = await spawnProcess(net, bob, "registry-client-process");
    const request = JSON.stringify({
      name: "made-by-a-process",
      description: "registered by an aos process",
    });
    await evalCode(
      bob,
      agent,
      `Send({ Target = "${reg.processId}", Action = "Register-Skill", Data = [[${request}]] })`,
    );
    await net.settle();
    const got = expectOk(await reg.read(alice, "Get-Skill", { name: "made-by-a-process" }));
    expect(got.skill.publisher).toBe(agent);
    // The reply went back to the process.
    const last = await inspect(agent, bob, 'return Inbox[#Inbox].Action .. " " .. Inbox[#Inbox].Status');
    expect(last).toContain("Register-Skill-Response OK");
  });
});

describe("the owner's powers over skills", () => {
  it("do not include publishing, updating, deprecating or transferring another publisher's skill", async () => {
    const name = "alice-tool";
    const cases: [string, object][] = [
      ["Publish-Version", { name, version: "9.0.0", txId: txId("owner"), contentHash: contentHash(9) }],
      ["Update-Skill", { name, description: "the owner's now" }],
      ["Deprecate-Skill", { name, reason: "owner says so" }],
      ["Transfer-Skill", { name, to: owner.address }],
    ];
    for (const [action, data] of cases) expectError(await reg.send(owner, action, data), "E_NOT_PUBLISHER");
    const got = expectOk(await reg.read(alice, "Get-Skill", { name }));
    expect(got.skill).toMatchObject({
      publisher: alice.address,
      description: "Alice's skill",
      deprecated: false,
    });
  });

  it("do not include taking a skill over with Import-State: a registry with live writes refuses imports", async () => {
    const takeover = {
      name: "alice-tool",
      publisher: owner.address,
      description: "taken over",
      createdAt: 1,
      updatedAt: 2,
      versions: [],
    };
    const r = expectError(await reg.send(owner, "Import-State", { skills: [takeover] }), "E_IMPORT_CLOSED");
    expect(r.body.error.message).toContain("freshly deployed");
    const got = expectOk(await reg.read(alice, "Get-Skill", { name: "alice-tool" }));
    expect(got.skill).toMatchObject({ publisher: alice.address, description: "Alice's skill" });
  });
});

describe("text that is not UTF-8", () => {
  // A lone surrogate escape decodes to the 3 bytes of an encoded surrogate (CESU-8), never valid UTF-8.
  const bad = ["\\ud800", "\\udfff", "ok \\ud800\\u0041", "\\udc00\\ud800"];

  // Dry-runs: a write's dry-run runs the same validation as the write.
  it("is refused in every text field with E_INVALID_FIELD naming the field", async () => {
    for (const s of bad) {
      const fields: [string, string, string][] = [
        ["Register-Skill", `{"name":"utf","description":"${s}"}`, "description"],
        ["Register-Skill", `{"name":"utf","description":"x","tags":["${s}"]}`, "tags[0]"],
        ["Register-Skill", `{"name":"${s}","description":"x"}`, "name"],
        ["Update-Skill", `{"name":"alice-tool","description":"${s}"}`, "description"],
        ["Deprecate-Skill", `{"name":"alice-tool","reason":"${s}"}`, "reason"],
        ["Search-Skills", `{"query":"${s}"}`, "query"],
        ["List-Skills", `{"cursor":"${s}"}`, "cursor"],
        ["Transfer-Skill", `{"name":"alice-tool","to":"${s}"}`, "to"],
      ];
      for (const [action, data, field] of fields) {
        const r = expectError(await reg.read(alice, action, data), "E_INVALID_FIELD");
        expect(r.body.error.field, `${action} ${data}`).toBe(field);
        expect(r.body.error.message).toContain("UTF-8");
      }
    }
    const got = expectOk(await reg.read(alice, "Get-Skill", { name: "alice-tool" }));
    expect(got.skill).toMatchObject({ description: "Alice's skill", deprecated: false });
    expectError(await reg.read(alice, "Get-Skill", { name: "utf" }), "E_SKILL_NOT_FOUND");
  });

  it("is told apart from UTF-8 byte by byte (overlongs, surrogates, beyond U+10FFFF, truncation)", async () => {
    const valid = [
      "",
      "abc",
      "\\xC3\\xA9",
      "\\xE2\\x82\\xAC",
      "\\xED\\x9F\\xBF",
      "\\xEE\\x80\\x80",
      "\\xF0\\x9F\\x98\\x80",
      "\\xF4\\x8F\\xBF\\xBF",
    ];
    const invalid = [
      "\\xED\\xA0\\x80", // U+D800 (CESU-8)
      "\\xED\\xBF\\xBF", // U+DFFF
      "\\xC0\\xAF", // overlong '/'
      "\\xC1\\xBF",
      "\\xE0\\x80\\xAF", // overlong, 3 bytes
      "\\xF0\\x80\\x80\\xAF", // overlong, 4 bytes
      "\\xF4\\x90\\x80\\x80", // U+110000
      "\\xF5\\x80\\x80\\x80",
      "\\xF8\\x88\\x80\\x80\\x80", // 5-byte form
      "\\xFF",
      "\\x80", // continuation without a lead byte
      "a\\xC3", // truncated at the end
      "\\xE2\\x82", // truncated 3-byte sequence
      "\\xC3\\x28", // lead byte followed by ASCII
    ];
    const lua = (list: string[]) =>
      `local u = require("registry.unicode"); local out = {}
       for _, s in ipairs({ ${list.map((s) => `"${s}"`).join(", ")} }) do out[#out + 1] = tostring(u.valid(s)) end
       return table.concat(out, ",")`;
    expect(await inspect(reg.processId, owner, lua(valid))).toBe(valid.map(() => "true").join(","));
    expect(await inspect(reg.processId, owner, lua(invalid))).toBe(invalid.map(() => "false").join(","));
  });
});

describe("messages no handler takes", () => {
  it("get no reply and are not kept: the Inbox stays empty, whatever their Data", async () => {
    const unmatched: [{ name: string; value: string }[], string][] = [
      [[{ name: "Action", value: "Not-A-Registry-Action" }], "x".repeat(10_000)],
      [[], "no action at all"],
      [[{ name: "Action", value: "Spam" }, ...JSON_TYPED], "[".repeat(4000)],
      [[{ name: "Action", value: "Spam" }, ...JSON_TYPED], '{"not": "closed"'],
    ];
    for (const [tags, data] of unmatched) {
      const res = await alice.client.send(reg.processId, tags, data);
      expect(res.Error).toBeFalsy();
      expect(res.Messages).toEqual([]);
    }
    expect(await inspect(reg.processId, owner, "return tostring(#Inbox)")).toBe("0");
    expectOk(await reg.read(alice, "Info"));
  });
});

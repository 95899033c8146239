import { ArweaveSigner, createData } from "@dha-team/arbundles";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import {
  type Actor,
  actor,
  deployRegistry,
  expectOk,
  Registry,
} from "../../ao-process/test/support/registry";
import { dataForProcess, type Item, readTags, signItem } from "../../devnet/dataItem";
import type { Jwk } from "../../providers/wallet";
import { aoClient, type Devnet, withDevnet } from "../support/devnet";
import { mainnetClient } from "../support/mainnetClient";
import { testWallet } from "../support/wallets";

/**
 * Data that is not UTF-8, sent in real signed items through both front doors, as AO's units hand it to a
 * process (devnet/dataItem.ts `dataForProcess`): a legacy process gets each bad sequence replaced by
 * U+FFFD, a HyperBEAM process gets no Data; tags that are not UTF-8 are refused at the door. Then what
 * the registry makes of it: E_INVALID_FIELD for U+FFFD, an empty request for no Data. Issue 19, point 4.
 */
const alice = testWallet("alice");
const SLOW = 240_000;
const ECHO = `local function hex(s) return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end)) end
Handlers.add("echo", "Echo", function(m)
  m.reply({ Data = m.Data == nil and "<nil>" or hex(m.Data) })
end)`;

/** The examples, then more of the class; each with how many U+FFFD Rust's lossy decoding makes. */
const INVALID: [string, number][] = [
  ["ff", 1],
  ["c0af", 2], // overlong '/'
  ["eda080", 3], // U+D800 (CESU-8)
  ["f4908080", 4], // U+110000
  ["80", 1], // a continuation byte alone
  ["e282", 1], // a 3-byte sequence cut short
  ["e080af", 3], // overlong, 3 bytes
  ["f08080af", 4], // overlong, 4 bytes
  ["edbfbf", 3], // U+DFFF
  ["f8888080", 4], // a 5-byte form
  ["fe", 1],
  ["c328", 1], // a lead byte followed by ASCII '('
];
const FFFD = "efbfbd";

let net: Devnet & { cleanup(): Promise<void> };
let legacyPid: string;
let mainnetPid: string;

/** Posts a raw signed item to the legacy messenger (`POST /`). */
async function postLegacy(raw: Buffer): Promise<{ status: number; body: { id?: string; error?: string } }> {
  const res = await fetch(`${net.urls.mu}/`, { method: "POST", body: new Uint8Array(raw) });
  return { status: res.status, body: (await res.json()) as { id?: string; error?: string } };
}

/** Posts a raw signed item to the mainnet front door (`POST /<pid>~process@1.0/push`). */
async function postMainnet(pid: string, raw: Buffer) {
  const res = await fetch(`${net.urls.node}/${pid}~process@1.0/push`, {
    method: "POST",
    headers: { "Content-Type": "application/ans104", "codec-device": "ans104@1.0" },
    body: new Uint8Array(raw),
  });
  return { status: res.status, body: (await res.json()) as { id?: string; error?: string } };
}

type Door = "legacy" | "mainnet";

/** Sends `data` (bytes) with `tags` to `pid` through `door`; returns the result's reply messages. */
async function send(
  door: Door,
  pid: string,
  tags: { name: string; value: string }[],
  data: Buffer,
  jwk: Jwk,
) {
  const { item, raw } = await signItem(jwk, {
    data,
    tags: [{ name: "Data-Protocol", value: "ao" }, { name: "Type", value: "Message" }, ...tags],
    target: pid,
  });
  const posted = door === "legacy" ? await postLegacy(raw) : await postMainnet(pid, raw);
  expect(posted.status, JSON.stringify(posted.body)).toBe(200);
  const res = await fetch(`${net.urls.cu}/result/${item.id}?process-id=${pid}`);
  return (await res.json()) as { Messages: { Data?: string; Tags?: { name: string; value: string }[] }[] };
}

const echo = async (door: Door, pid: string, hex: string) =>
  (await send(door, pid, [{ name: "Action", value: "Echo" }], Buffer.from(hex, "hex"), alice.jwk)).Messages[0]
    ?.Data;

beforeAll(async () => {
  net = await withDevnet();
  legacyPid = await aoClient(net, alice.jwk).spawnWithCode(net, ECHO);
  const mainnet = await mainnetClient(net.urls.node!, alice.jwk);
  mainnetPid = await mainnet.spawn({ module: net.moduleId });
  const ao = aoClient(net, alice.jwk);
  const loaded = await ao.send(mainnetPid, [{ name: "Action", value: "Eval" }], ECHO);
  expect(loaded.Error).toBeFalsy();
}, SLOW);
afterAll(async () => {
  await net?.cleanup();
});

describe("data that is not UTF-8, as the process gets it", () => {
  test.each(["legacy", "mainnet"] as Door[])(
    "a legacy process, through the %s door: each bad sequence replaced by U+FFFD, as AO's legacy scheduler serves it",
    async (door) => {
      for (const [hex, replacements] of INVALID)
        expect(await echo(door, legacyPid, hex), hex).toBe(
          FFFD.repeat(replacements) + (hex === "c328" ? "28" : ""),
        );
      expect(await echo(door, legacyPid, "c3a9e282ac")).toBe("c3a9e282ac");
    },
    SLOW,
  );

  test.each(["legacy", "mainnet"] as Door[])(
    "a HyperBEAM process, through the %s door: no Data at all, as HyperBEAM's compute hands it",
    async (door) => {
      for (const [hex] of INVALID) expect(await echo(door, mainnetPid, hex), hex).toBe("<nil>");
      expect(await echo(door, mainnetPid, "c3a9e282ac")).toBe("c3a9e282ac");
    },
    SLOW,
  );

  test("a mainnet dry-run hands no Data; the gateway reports the data's size in bytes", async () => {
    const { raw, item } = await signItem(alice.jwk, {
      data: Buffer.from("ff41", "hex"),
      tags: [{ name: "Type", value: "Message" }],
      target: mainnetPid,
    });
    const res = await fetch(`${net.urls.node}/${mainnetPid}~process@1.0/as=execution/compute&Action=Echo`, {
      method: "POST",
      headers: { "Content-Type": "application/ans104", "codec-device": "ans104@1.0" },
      body: new Uint8Array(raw),
    });
    const body = (await res.json()) as { raw: { Messages: { Data?: string }[] } };
    expect(body.raw.Messages[0]?.Data).toBe("<nil>");
    expect(item.rawData).toBe(Buffer.from("ff41", "hex").toString("base64url"));

    const posted = await postLegacy(
      (
        await signItem(alice.jwk, {
          data: Buffer.from("ff41", "hex"),
          tags: [
            { name: "Data-Protocol", value: "ao" },
            { name: "Type", value: "Message" },
          ],
          target: legacyPid,
        })
      ).raw,
    );
    const found = await fetch(`${net.urls.gateway}/graphql`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        query: "query($ids: [ID!]) { transactions(ids: $ids) { edges { node { data { size } } } } }",
        variables: { ids: [posted.body.id] },
      }),
    });
    const g = (await found.json()) as {
      data: { transactions: { edges: { node: { data: { size: string } } }[] } };
    };
    expect(g.data.transactions.edges[0]?.node.data.size).toBe("2");
  });
});

/** An item with a tag whose value is `bytes` (not UTF-8), signed over those bytes. */
async function itemWithRawTagValue(jwk: Jwk, target: string, bytes: Buffer): Promise<Buffer> {
  const signer = new ArweaveSigner(jwk as unknown as ConstructorParameters<typeof ArweaveSigner>[0]);
  const marker = "Raw-Bytes-Tag";
  const di = createData("", signer, {
    target,
    tags: [
      { name: "Data-Protocol", value: "ao" },
      { name: "Type", value: "Message" },
      { name: marker, value: "~".repeat(bytes.length) },
    ],
  });
  const raw = di.getRaw();
  // The value follows the name and its one-byte Avro length.
  const at = raw.indexOf(Buffer.from(marker)) + marker.length + 1;
  bytes.copy(raw, at);
  await di.sign(signer);
  return di.getRaw();
}

describe("tags that are not UTF-8", () => {
  test.each(["legacy", "mainnet"] as Door[])(
    "are refused at the %s door with a 400 naming the tag",
    async (door) => {
      for (const [hex] of INVALID.slice(0, 4)) {
        const raw = await itemWithRawTagValue(alice.jwk, legacyPid, Buffer.from(hex, "hex"));
        const r = door === "legacy" ? await postLegacy(raw) : await postMainnet(legacyPid, raw);
        expect(r.status, hex).toBe(400);
        expect(r.body.error).toMatch(/tag 2's value is not UTF-8 .*send tag names and values as UTF-8/);
      }
    },
    SLOW,
  );
});

describe("the registry, sent a description that is not UTF-8 in a real signed item", () => {
  const ownerJwk = testWallet("registry-owner").jwk;
  let owner: Actor;
  let legacyRegistry: string;
  let mainnetRegistry: string;
  beforeAll(async () => {
    owner = actor(net, "registry-owner");
    legacyRegistry = await owner.client.spawn({
      module: net.moduleId,
      scheduler: net.schedulerId,
      signer: owner.client.signer,
      tags: [{ name: "Authority", value: net.authority }],
    });
    await deployRegistry(owner, legacyRegistry, "utf8-legacy");
    const mainnet = await mainnetClient(net.urls.node!, ownerJwk);
    mainnetRegistry = await mainnet.spawn({ module: net.moduleId });
    await deployRegistry(owner, mainnetRegistry, "utf8-mainnet");
  }, SLOW);

  /** Register-Skill whose Data is JSON with `bytes` inside the description's string. */
  const register = async (door: Door, pid: string, name: string, bytes: Buffer) => {
    const data = Buffer.concat([
      Buffer.from(`{"name":"${name}","description":"before `),
      bytes,
      Buffer.from(' after"}'),
    ]);
    const res = await send(door, pid, [{ name: "Action", value: "Register-Skill" }], data, ownerJwk);
    const reply = res.Messages.find((m) => m.Tags?.some((t) => t.value === "Register-Skill-Response"));
    return JSON.parse(reply?.Data ?? "{}") as { ok: boolean; error?: { code: string; field?: string } };
  };

  test.each(["legacy", "mainnet"] as Door[])(
    "on a legacy process, through the %s door: E_INVALID_FIELD naming description (it sees U+FFFD); nothing stored",
    async (door) => {
      for (const [i, [hex]] of INVALID.entries()) {
        const r = await register(door, legacyRegistry, `bad-${door}-${i}`, Buffer.from(hex, "hex"));
        expect(r.error, hex).toMatchObject({ code: "E_INVALID_FIELD", field: "description" });
      }
      const listed = expectOk(await new Registry(legacyRegistry).read(owner, "List-Skills", {}));
      expect(listed.skills).toEqual([]);
    },
    SLOW,
  );

  test.each(["legacy", "mainnet"] as Door[])(
    "on a HyperBEAM process, through the %s door: it sees no Data, so the request is empty (E_MISSING_FIELD: it names the first required field); nothing stored",
    async (door) => {
      for (const [i, [hex]] of INVALID.slice(0, 4).entries()) {
        const r = await register(door, mainnetRegistry, `bad-${door}-${i}`, Buffer.from(hex, "hex"));
        expect(r.error, hex).toMatchObject({ code: "E_MISSING_FIELD", field: "description" });
      }
      const listed = expectOk(await new Registry(mainnetRegistry).read(owner, "List-Skills", {}));
      expect(listed.skills).toEqual([]);
    },
    SLOW,
  );

  test("a record a move imports keeps its U+FFFD: a registry before 1.4.0 accepted it, and a move must not fail on it", async () => {
    const target = await owner.client.spawn({
      module: net.moduleId,
      scheduler: net.schedulerId,
      signer: owner.client.signer,
      tags: [{ name: "Authority", value: net.authority }],
    });
    await deployRegistry(owner, target, "utf8-import", { open: false });
    const record = {
      name: "stored-before",
      publisher: alice.address,
      description: "stored as \uFFFD by a registry before 1.4.0",
      tags: [],
      createdAt: 1,
      updatedAt: 2,
      deprecated: true,
      deprecationReason: "also \uFFFD",
      deprecatedAt: 3,
      versions: [],
    };
    expectOk(await new Registry(target).send(owner, "Import-State", { skills: [record] }));
  });

  test("U+FFFD sent as such (UTF-8 or a JSON escape) is refused the same way: the registry cannot tell them apart", async () => {
    const reg = new Registry(legacyRegistry);
    for (const description of ["a \uFFFD b", "a \\ufffd b"]) {
      const r = await reg.send(owner, "Register-Skill", `{"name":"fffd","description":"${description}"}`);
      expect(r.code).toBe("E_INVALID_FIELD");
      expect(r.body.error.message).toContain("U+FFFD");
    }
  });
});

describe("the rules, as pure functions", () => {
  const item = (rawData?: string): Item => ({
    id: "i",
    owner: "o",
    ownerKey: "k",
    signature: "s",
    target: "t",
    anchor: "",
    tags: [],
    data: "text",
    ...(rawData ? { rawData } : {}),
  });

  test("dataForProcess: UTF-8 everywhere as is; otherwise lossy text to a legacy message, nothing else", () => {
    expect(dataForProcess(item(), { mainnet: true, isProcessItem: false })).toBe("text");
    expect(dataForProcess(item("_w"), { mainnet: false, isProcessItem: false })).toBe("text");
    expect(dataForProcess(item("_w"), { mainnet: true, isProcessItem: false })).toBeUndefined();
    expect(dataForProcess(item("_w"), { mainnet: false, isProcessItem: true })).toBeUndefined();
  });

  test("readTags reads Avro tags (one block or several, negative counts with sizes) and refuses bytes that are not UTF-8", () => {
    const str = (s: Buffer) => Buffer.concat([Buffer.from([s.length << 1]), s]);
    const tag = (n: string, v: Buffer) => Buffer.concat([str(Buffer.from(n)), str(v)]);
    const one = tag("A", Buffer.from("b"));
    expect(readTags(Buffer.concat([Buffer.from([2 << 1]), one, one, Buffer.from([0])]))).toEqual([
      { name: "A", value: "b" },
      { name: "A", value: "b" },
    ]);
    // A block of -1 items followed by its size in bytes, then an empty block.
    expect(readTags(Buffer.concat([Buffer.from([1, one.length << 1]), one, Buffer.from([0])]))).toEqual([
      { name: "A", value: "b" },
    ]);
    expect(readTags(Buffer.alloc(0))).toEqual([]);
    expect(() =>
      readTags(Buffer.concat([Buffer.from([2]), tag("A", Buffer.from("ff", "hex")), Buffer.from([0])])),
    ).toThrow(/tag 0's value is not UTF-8 \(bytes ff\)/);
    expect(() =>
      readTags(Buffer.concat([Buffer.from([2]), tag("\u00e9", Buffer.from("x")), Buffer.from([0])])),
    ).not.toThrow();
    expect(() => readTags(Buffer.from([2, 10]))).toThrow(/runs past the end/);
  });
});

import { readFileSync, rmSync } from "node:fs";
import { ArweaveSigner, createData } from "@dha-team/arbundles";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { parseNetworkFile } from "../../devnet/networkFile";
import type { Jwk } from "../../providers/wallet";
import { aoClient, type Devnet, startDevnetProcess, tempDataDir, withDevnet } from "../support/devnet";
import { loadAoconnect, type MainnetClient, mainnetClient, type Tag } from "../support/mainnetClient";
import { testWallet } from "../support/wallets";

// The mainnet front door's conformance: the unmodified aoconnect 0.0.98 in MODE 'mainnet', real ANS-104
// signatures, the real aos module, real HTTP. One network for the file; each test spawns what it needs.
let net: Devnet & { cleanup(): Promise<void> };
let node: string;
let ao: MainnetClient;
const alice = testWallet("alice");
const bob = testWallet("bob");

beforeAll(async () => {
  net = await withDevnet();
  node = net.urls.node!;
  ao = await mainnetClient(node, alice.jwk);
});
afterAll(async () => {
  await net?.cleanup();
});

const ECHO = `Handlers.add("echo", "Echo", function(m)
  m.reply({ Data = m.From .. "|" .. tostring(m.Data) .. "|" .. tostring(m.Tags.Extra) })
end)
N = N or 0
Handlers.add("bump", "Bump", function(m) N = N + 1; m.reply({ Data = tostring(N) }) end)
Handlers.add("peek", "Peek", function(m) m.reply({ Data = tostring(N) }) end)`;

/** Spawns through the mainnet door and installs the test handlers with an Eval; answers the process ID. */
async function spawnWithHandlers(client = ao): Promise<string> {
  const pid = await client.spawn({ module: net.moduleId, tags: [{ name: "Name", value: "mainnet-test" }] });
  const slot = await client.message({ process: pid, tags: [{ name: "Action", value: "Eval" }], data: ECHO });
  const r = await client.result({ process: pid, slot });
  expect(r.Error).toBeUndefined();
  return pid;
}

async function signed(jwk: Jwk, tags: Tag[], opts: { target?: string; data?: string } = {}): Promise<Buffer> {
  const signer = new ArweaveSigner(jwk as never);
  const item = createData(opts.data ?? "1984", signer, {
    tags,
    ...(opts.target ? { target: opts.target } : {}),
  });
  await item.sign(signer);
  return item.getRaw();
}

const spawnTags = (): Tag[] => [
  { name: "device", value: "process@1.0" },
  { name: "Authority", value: net.nodeAddress! },
  { name: "Scheduler", value: net.schedulerId },
  { name: "Module", value: net.moduleId },
  { name: "Data-Protocol", value: "ao" },
  { name: "Type", value: "Process" },
  { name: "Variant", value: "ao.N.1" },
];
const messageTags = (): Tag[] => [
  { name: "Action", value: "Bump" },
  { name: "Data-Protocol", value: "ao" },
  { name: "Type", value: "Message" },
  { name: "Variant", value: "ao.N.1" },
];

interface Answer {
  status: number;
  type: string | null;
  headers: Headers;
  body: { error?: string } & Record<string, unknown>;
}

/** A POST as aoconnect makes it (ANS-104 headers unless told otherwise), to this network's node. */
async function post(
  path: string,
  body: Uint8Array | string,
  headers: Record<string, string> = { "Content-Type": "application/ans104", "codec-device": "ans104@1.0" },
  base = node,
): Promise<Answer> {
  const res = await fetch(`${base}${path}`, {
    method: "POST",
    headers,
    body: typeof body === "string" ? body : new Uint8Array(body),
  });
  const text = await res.text();
  let parsed: Answer["body"] = {};
  try {
    parsed = JSON.parse(text) as Answer["body"];
  } catch {
    parsed = { text };
  }
  return { status: res.status, type: res.headers.get("content-type"), headers: res.headers, body: parsed };
}

function expectRefused(a: Answer, status: number, message: RegExp): void {
  const shown = `${a.status} ${JSON.stringify(a.body)}`;
  expect(a.status, shown).toBe(status);
  expect(a.type, shown).toBe("application/json");
  expect(a.body.error, shown).toMatch(message);
}

describe("loading aoconnect's mainnet mode", () => {
  test("the CommonJS build fails in mainnet mode; the ESM build works through import() and require()", async () => {
    const cjs = require("@permaweb/aoconnect") as { connect: (a: object) => unknown };
    expect(() => cjs.connect({ MODE: "mainnet", URL: node })).toThrow(/init is not a function/);
    const esm = await loadAoconnect();
    expect(esm.connect({ MODE: "mainnet", URL: node })).toHaveProperty("MODE", "mainnet");
    // Node 22.12+ and 24 load an ES module through require() when it has no top-level await.
    const required = require("@permaweb/aoconnect/node") as typeof esm;
    expect(required.connect({ MODE: "mainnet", URL: node })).toHaveProperty("MODE", "mainnet");
  });
});

describe("the node's address", () => {
  test("GET /~meta@1.0/info/address answers the node's own key as text: not the scheduler's, not the messenger's", async () => {
    const res = await fetch(`${node}/~meta@1.0/info/address`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(await res.text()).toBe(net.nodeAddress);
    // Three roles, three keys, as on AO: the node, the scheduler, the legacy messenger.
    expect(new Set([net.nodeAddress, net.schedulerId, net.authority]).size).toBe(3);
    expect(net.keys).toBe("distinct");
  });

  test("network.json lists the node next to the legacy units; a file written before it still parses", () => {
    const info = parseNetworkFile(readFileSync(net.networkFile, "utf8"), net.networkFile);
    expect(info.urls.node).toBe(net.urls.mu);
    const { node: _, ...legacyUrls } = info.urls;
    expect(
      parseNetworkFile(JSON.stringify({ ...info, urls: legacyUrls }), "old.json").urls.node,
    ).toBeUndefined();
  });
});

describe("spawn, message, result", () => {
  test("aoconnect's default spawn (no SCHEDULER: it reads the node's address) names the node as scheduler and authority, and the node schedules it", async () => {
    const name = `mainnet-${Math.random().toString(36).slice(2)}`;
    const pid = await ao.spawn({ module: net.moduleId, tags: [{ name: "Name", value: name }] });
    expect(pid).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const su = (await (await fetch(`${net.urls.su}/${pid}`)).json()) as {
      edges: { node: { message: { id: string; owner: { address: string }; tags: Tag[] } } }[];
    };
    const spawn = su.edges[0]!.node.message;
    expect(spawn.id).toBe(pid);
    expect(spawn.owner.address).toBe(alice.address);
    expect(spawn.tags).toContainEqual({ name: "Scheduler", value: net.nodeAddress });
    expect(spawn.tags).toContainEqual({ name: "Authority", value: net.nodeAddress });
    expect(spawn.tags).toContainEqual({ name: "Name", value: name });
    expect(spawn.tags).toContainEqual({ name: "Variant", value: "ao.N.1" });
  });

  test("messages get consecutive slots after the spawn's slot 0, and a result is read by its slot", async () => {
    const pid = await spawnWithHandlers();
    const s2 = await ao.message({ process: pid, tags: [{ name: "Action", value: "Bump" }] });
    const s3 = await ao.message({ process: pid, tags: [{ name: "Action", value: "Bump" }] });
    // Slot 0 is the spawn, slot 1 the Eval.
    expect([s2, s3]).toEqual([2, 3]);
    expect((await ao.result({ process: pid, slot: s3 })).Messages[0]!.Data).toBe("2");
    expect((await ao.result({ process: pid, slot: s2 })).Messages[0]!.Data).toBe("1");
    // The slot is the scheduler's nonce for that message.
    const su = (await (await fetch(`${net.urls.su}/${pid}`)).json()) as {
      edges: { node: { assignment: { tags: Tag[] } } }[];
    };
    expect(su.edges.map((e) => e.node.assignment.tags.find((t) => t.name === "Nonce")!.value)).toEqual([
      "0",
      "1",
      "2",
      "3",
    ]);
  });

  test("the result has Output, Messages, Spawns, Assignments and Error; an Eval's error comes back in Error", async () => {
    const pid = await ao.spawn({ module: net.moduleId });
    const ok = await ao.result({
      process: pid,
      slot: await ao.message({
        process: pid,
        tags: [{ name: "Action", value: "Eval" }],
        data: "return 6 * 7",
      }),
    });
    expect((ok.Output as { data: string }).data).toBe("42");
    expect(ok).toMatchObject({ Messages: [], Spawns: [], Assignments: [] });
    const bad = await ao.result({
      process: pid,
      slot: await ao.message({
        process: pid,
        tags: [{ name: "Action", value: "Eval" }],
        data: `error("mainnet exploded")`,
      }),
    });
    expect(String(bad.Error)).toContain("mainnet exploded");
  });

  test("a message is from its signer: the reply goes to the signing wallet", async () => {
    const pid = await spawnWithHandlers();
    const asBob = await mainnetClient(node, bob.jwk, net.schedulerId);
    const slot = await asBob.message({
      process: pid,
      tags: [
        { name: "Action", value: "Echo" },
        { name: "Extra", value: "x" },
      ],
      data: "hi",
    });
    const r = await asBob.result({ process: pid, slot });
    expect(r.Messages[0]!.Target).toBe(bob.address);
    expect(r.Messages[0]!.Data).toBe(`${bob.address}|hi|x`);
  });

  test("the same signed spawn sent again answers the same process; the same signed message sent again takes a new slot, as on HyperBEAM", async () => {
    const raw = await signed(alice.jwk, spawnTags());
    const first = await post("/push", raw);
    const again = await post("/push", raw);
    expect(first.status).toBe(200);
    expect(again.status).toBe(200);
    expect(again.headers.get("process")).toBe(first.headers.get("process"));
    const pid = first.headers.get("process")!;
    const su = (await (await fetch(`${net.urls.su}/${pid}`)).json()) as { edges: unknown[] };
    expect(su.edges).toHaveLength(1);
    // A re-sent message is scheduled again (HyperBEAM's scheduler does not drop an ID it holds): a client
    // must ask before it re-sends (the schedule route, below).
    const msg = await signed(alice.jwk, messageTags(), { target: pid });
    const m1 = await post(`/${pid}~process@1.0/push`, msg);
    const m2 = await post(`/${pid}~process@1.0/push`, msg);
    expect(m1.body.slot).toBe(1);
    expect(m2.body.slot).toBe(2);
    expect(m2.body.id).toBe(m1.body.id);
  });

  test("a push answers the slot and the computed result (the node computes before it answers)", async () => {
    const pid = await spawnWithHandlers();
    const msg = await signed(alice.jwk, messageTags(), { target: pid });
    const a = await post(`/${pid}~process@1.0/push`, msg);
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({ slot: 2, process: pid, raw: { Messages: [{ Data: "1" }] } });
    // The same as reading the slot's result afterwards.
    expect((await ao.result({ process: pid, slot: 2 })).Messages[0]!.Data).toBe("1");
  });
});

describe("dry-run", () => {
  test("answers from the current state with the path's tags and the item's data and signer, and persists nothing", async () => {
    const pid = await spawnWithHandlers();
    const d1 = await ao.dryrun({ process: pid, tags: [{ name: "Action", value: "Bump" }] });
    const d2 = await ao.dryrun({ process: pid, tags: [{ name: "Action", value: "Bump" }] });
    expect(d1.Messages[0]!.Data).toBe("1");
    expect(d2.Messages[0]!.Data).toBe("1");
    expect(
      (await ao.dryrun({ process: pid, tags: [{ name: "Action", value: "Peek" }] })).Messages[0]!.Data,
    ).toBe("0");
    // A tag value with a space and a slash, which aoconnect puts into the path as they are.
    const echo = await ao.dryrun({
      process: pid,
      tags: [
        { name: "Action", value: "Echo" },
        { name: "Extra", value: "a b/c" },
      ],
      data: "dd",
    });
    expect(echo.Messages[0]!.Data).toBe(`${alice.address}|dd|a b/c`);
    // Nothing was scheduled: the spawn and the Eval only.
    const current = await ao.results({ process: pid });
    expect(current.edges[0]!.cursor).toBe("1");
  });

  test("the same dry-run through the legacy door reads the same state", async () => {
    const pid = await spawnWithHandlers();
    await ao.message({ process: pid, tags: [{ name: "Action", value: "Bump" }] });
    const legacy = await aoClient(net, alice.jwk).dryrun({
      process: pid,
      tags: [{ name: "Action", value: "Peek" }],
    });
    const mainnet = await ao.dryrun({ process: pid, tags: [{ name: "Action", value: "Peek" }] });
    expect(mainnet.Messages[0]!.Data).toBe("1");
    expect(legacy.Messages[0]!.Data).toBe("1");
  });
});

describe("results", () => {
  test("POST /<pid>/slot/current then /<pid>/compute/results=<slot>: the latest slot and its result", async () => {
    const pid = await spawnWithHandlers();
    await ao.message({ process: pid, tags: [{ name: "Action", value: "Bump" }] });
    const last = await ao.message({ process: pid, tags: [{ name: "Action", value: "Bump" }] });
    const page = await ao.results({ process: pid });
    expect(page.edges).toHaveLength(1);
    expect(page.edges[0]!.cursor).toBe(String(last));
    expect(page.edges[0]!.node.Messages[0]!.Data).toBe("2");
  });
});

describe("bad requests", () => {
  const garbage: [string, () => Uint8Array | string, RegExp][] = [
    ["empty", () => "", /malformed data item/],
    ["text", () => "definitely not a data item", /malformed data item/],
    ["JSON", () => JSON.stringify({ Tags: [] }), /malformed data item/],
    [
      "an unknown signature type",
      () => Buffer.concat([Buffer.from([0x00, 0x63]), Buffer.alloc(1100, 7)]),
      /signature type/,
    ],
    [
      "random bytes after an Arweave signature type",
      () => Buffer.concat([Buffer.from([1, 0]), Buffer.alloc(1500, 0xab)]),
      /data item|signature/,
    ],
  ];
  test.each(garbage)("%s sent to POST /push: a JSON 400 naming the problem", async (_name, body, message) => {
    expectRefused(await post("/push", body()), 400, message);
  });

  test("an unsigned item: a 400 (and aoconnect without a signer sends one, which fails its spawn)", async () => {
    const raw = await signed(alice.jwk, spawnTags());
    raw.fill(0, 2, 2 + 512);
    expectRefused(await post("/push", raw), 400, /unsigned data item/);
    const unsigned = await mainnetClient(node, undefined, net.schedulerId);
    await expect(unsigned.spawn({ module: net.moduleId })).rejects.toThrow(/Error spawning process/);
    // What it sent: its item object as the text "[object Object]".
    expectRefused(await post("/push", "[object Object]"), 400, /malformed data item/);
  });

  test("a tampered item: a 400 on every route", async () => {
    const pid = await ao.spawn({ module: net.moduleId });
    const tamper = (raw: Buffer) => {
      raw.writeUInt8(raw.readUInt8(raw.length - 1) ^ 0xff, raw.length - 1);
      return raw;
    };
    expectRefused(
      await post("/push", tamper(await signed(alice.jwk, spawnTags()))),
      400,
      /invalid signature/,
    );
    const msg = tamper(await signed(alice.jwk, messageTags(), { target: pid }));
    for (const path of [
      `/${pid}~process@1.0/push`,
      `/${pid}~process@1.0/compute/results=0`,
      `/${pid}~process@1.0/as=execution/compute&Action=Peek`,
      `/${pid}/slot/current`,
      `/${pid}/compute/results=0`,
    ])
      expectRefused(await post(path, msg), 400, /invalid signature/);
  });

  test("a wrong content type or codec: a 415 naming what to send", async () => {
    const raw = await signed(alice.jwk, spawnTags());
    expectRefused(
      await post("/push", raw, { "Content-Type": "application/json" }),
      415,
      /application\/ans104/,
    );
    expectRefused(await post("/push", raw, {}), 415, /Content-Type/);
    expectRefused(
      await post("/push", raw, { "Content-Type": "application/ans104", "codec-device": "httpsig@1.0" }),
      415,
      /codec-device "httpsig@1.0"/,
    );
  });

  test("items on the wrong route or for another process: a 400 naming the route", async () => {
    const pid = await ao.spawn({ module: net.moduleId });
    const other = await ao.spawn({ module: net.moduleId });
    expectRefused(
      await post("/push", await signed(alice.jwk, messageTags(), { target: pid })),
      400,
      /Type=Process/,
    );
    expectRefused(
      await post(`/${pid}~process@1.0/push`, await signed(alice.jwk, spawnTags())),
      400,
      /Type=Message/,
    );
    expectRefused(
      await post(`/${pid}~process@1.0/push`, await signed(alice.jwk, messageTags(), { target: other })),
      400,
      /is not the process/,
    );
    expectRefused(
      await post(`/${pid}~process@1.0/push`, await signed(alice.jwk, messageTags())),
      400,
      /no target/,
    );
    const spawnOther = spawnTags().map((t) => (t.name === "Scheduler" ? { ...t, value: "S".repeat(43) } : t));
    expectRefused(await post("/push", await signed(alice.jwk, spawnOther)), 400, /unknown scheduler/);
  });

  test("bad paths: a malformed process ID, slot or tag is a 400", async () => {
    const pid = await ao.spawn({ module: net.moduleId });
    const item = await signed(alice.jwk, messageTags(), { target: pid });
    expectRefused(await post("/not-an-id~process@1.0/push", item), 400, /invalid process id/);
    expectRefused(await post(`/${pid}~process@1.0/compute/results=abc`, item), 400, /invalid slot "abc"/);
    expectRefused(await post(`/${pid}~process@1.0/as=execution/compute&Action`, item), 400, /no =/);
    expectRefused(
      await post(`/${pid}~process@1.0/as=execution/compute&A=1&A=2`, item),
      400,
      /tag A is given twice/,
    );
    expectRefused(await post(`/${pid}~process@1.0/push?x=1`, item), 400, /unknown query parameter/);
  });

  test("a body over 16 MiB is a 413", async () => {
    expectRefused(await post("/push", Buffer.alloc(16 * 1024 * 1024 + 1)), 413, /over the limit/);
  });
});

describe("unknown processes and slots", () => {
  test("every route answers a JSON 404 for an unknown process, and aoconnect's calls reject", async () => {
    const unknown = "A".repeat(43);
    const item = await signed(alice.jwk, messageTags(), { target: unknown });
    for (const path of [
      `/${unknown}~process@1.0/push`,
      `/${unknown}~process@1.0/compute/results=1`,
      `/${unknown}~process@1.0/as=execution/compute&Action=Peek`,
      `/${unknown}/slot/current`,
    ])
      expectRefused(await post(path, item), 404, /unknown process|not known/);
    await expect(ao.message({ process: unknown, tags: [{ name: "Action", value: "Bump" }] })).rejects.toThrow(
      /Error sending message/,
    );
    await expect(ao.result({ process: unknown, slot: 1 })).rejects.toThrow(/Error getting result/);
  });

  test("a slot not assigned yet is a JSON 404 naming the latest", async () => {
    const pid = await ao.spawn({ module: net.moduleId });
    const item = await signed(alice.jwk, messageTags(), { target: pid });
    expectRefused(await post(`/${pid}~process@1.0/compute/results=5`, item), 404, /latest slot is 0/);
  });
});

describe("one network, two front doors", () => {
  test("spawned through the legacy door: messaged and read through the mainnet door, and back", async () => {
    const legacy = aoClient(net, alice.jwk);
    const pid = await legacy.spawnWithCode(net, ECHO);
    const { slot, id } = await ao.message({
      process: pid,
      tags: [{ name: "Action", value: "Bump" }],
      returnMessageId: true,
      returnAssignmentSlot: true,
    });
    expect(slot).toBe(2);
    const viaMainnet = await ao.result({ process: pid, slot });
    const viaLegacy = await legacy.result({ process: pid, message: id });
    expect(viaMainnet.Messages[0]!.Data).toBe("1");
    expect(viaLegacy.Messages[0]!.Data).toBe("1");
    // A legacy message after it takes the next slot.
    await legacy.send(pid, [{ name: "Action", value: "Bump" }]);
    expect((await ao.results({ process: pid })).edges[0]).toMatchObject({ cursor: "3" });
    expect((await ao.result({ process: pid, slot: 3 })).Messages[0]!.Data).toBe("2");
  });

  test("spawned through the mainnet door: messaged and read through the legacy door", async () => {
    const pid = await spawnWithHandlers();
    const legacy = aoClient(net, alice.jwk);
    const r = await legacy.send(pid, [{ name: "Action", value: "Bump" }]);
    expect(r.Messages[0].Data).toBe("1");
    expect(
      (await legacy.dryrun({ process: pid, tags: [{ name: "Action", value: "Peek" }] })).Messages[0].Data,
    ).toBe("1");
    const page = (await legacy.results({ process: pid, limit: 10 })) as { edges: unknown[] };
    expect(page.edges).toHaveLength(3);
    // The legacy message is slot 2 on the mainnet door.
    expect((await ao.result({ process: pid, slot: 2 })).Messages[0]!.Data).toBe("1");
  });
});

describe("restart after kill -9", () => {
  // Two starts of the network's CLI in a child process, each booting aos: slow on a shared machine.
  test("slots and results are intact, and the next message takes the next slot", async () => {
    const dataDir = tempDataDir("devnet-mainnet-kill-");
    let running = await startDevnetProcess(dataDir);
    try {
      const url = running.urls.node!;
      const client = await mainnetClient(url, alice.jwk);
      const pid = await client.spawn({ module: running.moduleId });
      await client.result({
        process: pid,
        slot: await client.message({ process: pid, tags: [{ name: "Action", value: "Eval" }], data: ECHO }),
      });
      const slots: number[] = [];
      for (let i = 0; i < 3; i++)
        slots.push(await client.message({ process: pid, tags: [{ name: "Action", value: "Bump" }] }));
      expect(slots).toEqual([2, 3, 4]);
      const before = await Promise.all(slots.map((slot) => client.result({ process: pid, slot })));
      running.child.kill("SIGKILL");
      await new Promise((r) => running.child.once("exit", r));

      running = await startDevnetProcess(dataDir);
      const after = await mainnetClient(running.urls.node!, alice.jwk);
      expect(running.urls.node).toBeDefined();
      expect(await Promise.all(slots.map((slot) => after.result({ process: pid, slot })))).toEqual(before);
      expect((await after.results({ process: pid })).edges[0]!.cursor).toBe("4");
      const next = await after.message({ process: pid, tags: [{ name: "Action", value: "Bump" }] });
      expect(next).toBe(5);
      expect((await after.result({ process: pid, slot: next })).Messages[0]!.Data).toBe("4");
    } finally {
      await running.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 180_000);
});

/**
 * What the local mainnet node does as the real HyperBEAM node does (devnet/hyperbeam.ts cites the source):
 * three keys for three roles, the outbox of what came through the node pushed with the node's key, spawns naming another
 * scheduler, the schedule route a client asks before it re-sends, and a second door that schedules only.
 */
import { ArweaveSigner, createData } from "@dha-team/arbundles";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { MAINNET_SCHEDULER } from "../../devnet";
import type { Jwk } from "../../providers/wallet";
import { type Devnet, withDevnet } from "../support/devnet";
import { type MainnetClient, mainnetClient, type Tag } from "../support/mainnetClient";
import { testWallet } from "../support/wallets";

let net: Devnet & { cleanup(): Promise<void> };
let ao: MainnetClient;
const logs: string[] = [];
const alice = testWallet("alice");

beforeAll(async () => {
  net = await withDevnet({ scheduleOnlyNode: {}, log: (line) => logs.push(line) });
  ao = await mainnetClient(net.urls.node!, alice.jwk, net.schedulerId);
});
afterAll(async () => {
  await net?.cleanup();
});

async function signed(jwk: Jwk, tags: Tag[], opts: { target?: string; data?: string } = {}): Promise<Buffer> {
  const signer = new ArweaveSigner(jwk as never);
  const item = createData(opts.data ?? "1984", signer, {
    tags,
    ...(opts.target ? { target: opts.target } : {}),
  });
  await item.sign(signer);
  return item.getRaw();
}

const spawnTagsFor = (scheduler: string): Tag[] => [
  { name: "device", value: "process@1.0" },
  { name: "Authority", value: net.nodeAddress! },
  { name: "Scheduler", value: scheduler },
  { name: "Module", value: net.moduleId },
  { name: "Data-Protocol", value: "ao" },
  { name: "Type", value: "Process" },
  { name: "Variant", value: "ao.N.1" },
];

async function post(base: string, path: string, body: Uint8Array) {
  const res = await fetch(`${base}${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/ans104", "codec-device": "ans104@1.0" },
    body: new Uint8Array(body),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = { text };
  }
  return { status: res.status, body: json, headers: res.headers };
}

interface SchedulePage {
  page_info: { process: string; has_next_page: boolean };
  edges: { cursor: string; node: { message: { Id: string; Owner: string; Tags: Tag[] } } }[];
}

async function schedule(pid: string, params: Record<string, string> = {}, base = net.urls.node!) {
  const q = new URLSearchParams({ target: pid, accept: "application/aos-2", ...params });
  const res = await fetch(`${base}/~scheduler@1.0/schedule?${q}`);
  return { status: res.status, body: (await res.json()) as SchedulePage & { error?: string } };
}

describe("what comes through the node pushes its outbox through the node, signed by the node's key", () => {
  test("a message between two mainnet processes trusting the node's address reaches the handler", async () => {
    const trust = [{ name: "Authority", value: net.nodeAddress! }];
    const spawn = () => ao.spawn({ module: net.moduleId, authority: net.nodeAddress!, tags: trust });
    const [a, b] = [await spawn(), await spawn()];
    const evalIn = async (pid: string, code: string) => {
      const r = await ao.result({
        process: pid,
        slot: await ao.message({ process: pid, tags: [{ name: "Action", value: "Eval" }], data: code }),
      });
      expect(r.Error).toBeUndefined();
    };
    await evalIn(
      b,
      `Handlers.add("ping", "Ping", function(m) m.reply({ Action = "Pong", Data = "pong" }) end)`,
    );
    await evalIn(
      a,
      `Got = nil; Handlers.add("pong", "Pong", function(m) Got = m.Data .. " via " .. m.From end)`,
    );
    await evalIn(a, `Send({ Target = "${b}", Action = "Ping" })`);
    await net.settle();
    const got = await ao.dryrun({
      process: a,
      tags: [{ name: "Action", value: "Eval" }],
      data: "return Got",
    });
    // Signed by the messenger (another key) aos would not trust it, and no handler would run.
    expect((got.Output as { data?: string }).data).toBe(`pong via ${b}`);
    const pushed = await schedule(b);
    const ping = pushed.body.edges.find((e) => e.node.message.Tags.some((t) => t.value === "Ping"));
    expect(ping?.node.message.Owner).toBe(net.nodeAddress);
  });
});

describe("a spawn naming another scheduler", () => {
  test("a listed scheduler (AO mainnet's, by default) is accepted; the network schedules it itself and says so once", async () => {
    const first = await post(
      net.urls.node!,
      "/push",
      await signed(alice.jwk, spawnTagsFor(MAINNET_SCHEDULER)),
    );
    const second = await post(
      net.urls.node!,
      "/push",
      await signed(alice.jwk, spawnTagsFor(MAINNET_SCHEDULER)),
    );
    expect([first.status, second.status]).toEqual([200, 200]);
    const pid = first.headers.get("process")!;
    expect((await schedule(pid)).body.edges.map((e) => e.node.message.Id)).toEqual([pid]);
    const said = logs.filter((l) => l.includes(MAINNET_SCHEDULER));
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(/schedules it itself/);
  });

  test("an unlisted scheduler is refused, naming the ones taken", async () => {
    const other = "S".repeat(43);
    const r = await post(net.urls.node!, "/push", await signed(alice.jwk, spawnTagsFor(other)));
    expect(r.status).toBe(400);
    expect(String(r.body.error)).toContain(`unknown scheduler "${other}"`);
    expect(String(r.body.error)).toContain(MAINNET_SCHEDULER);
  });

  test("without the list, AO mainnet's scheduler is refused too", async () => {
    const bare = await withDevnet({ foreignSchedulers: [] });
    try {
      const r = await post(
        bare.urls.node!,
        "/push",
        await signed(alice.jwk, spawnTagsFor(MAINNET_SCHEDULER)),
      );
      expect(r.status).toBe(400);
      expect(String(r.body.error)).toContain(`unknown scheduler "${MAINNET_SCHEDULER}"`);
    } finally {
      await bare.cleanup();
    }
  });

  test("the legacy door refuses it: its messenger takes this network's scheduler only", async () => {
    const res = await fetch(net.urls.mu, {
      method: "POST",
      headers: { "Content-Type": "application/octet-stream" },
      body: new Uint8Array(await signed(alice.jwk, spawnTagsFor(MAINNET_SCHEDULER))),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/unknown scheduler/);
  });
});

describe("GET /~scheduler@1.0/schedule: the assignments a client reads to learn whether its message was scheduled", () => {
  test("lists each slot's message by ID, from and to inclusive, in the legacy scheduler's JSON", async () => {
    const pid = await ao.spawn({ module: net.moduleId, authority: net.nodeAddress! });
    const sent: { slot: number; id: string }[] = [];
    for (let i = 0; i < 3; i++)
      sent.push(
        await ao.message({
          process: pid,
          tags: [{ name: "Action", value: `N${i}` }],
          returnMessageId: true,
          returnAssignmentSlot: true,
        }),
      );
    const all = await schedule(pid);
    expect(all.status).toBe(200);
    expect(all.body.edges.map((e) => [e.cursor, e.node.message.Id])).toEqual([
      ["0", pid],
      ...sent.map((s) => [String(s.slot), s.id]),
    ]);
    expect(all.body.page_info).toMatchObject({ process: pid, has_next_page: false });
    const middle = await schedule(pid, { from: "2", to: "2" });
    expect(middle.body.edges.map((e) => e.node.message.Id)).toEqual([sent[1]!.id]);
    // The HTTP Accept header says the same as the query key; without either, the real node's default
    // (an HTTP-signed bundle) is not served here.
    const url = `${net.urls.node}/~scheduler@1.0/schedule?target=${pid}&from=3`;
    const viaHeader = await fetch(url, { headers: { Accept: "application/aos-2" } });
    expect(((await viaHeader.json()) as SchedulePage).edges.map((e) => e.node.message.Id)).toEqual([
      sent[2]!.id,
    ]);
    expect((await fetch(url)).status).toBe(406);
  });

  test("an unknown process is a 404, a format other than application/aos-2 a 406, a bad slot a 400", async () => {
    expect((await schedule("A".repeat(43))).status).toBe(404);
    const pid = await ao.spawn({ module: net.moduleId, authority: net.nodeAddress! });
    const bundle = await schedule(pid, { accept: "application/http" });
    expect(bundle.status).toBe(406);
    expect(bundle.body.error).toMatch(/application\/aos-2 only/);
    expect((await schedule(pid, { from: "x" })).status).toBe(400);
  });
});

describe("a second door that schedules only", () => {
  test("answers the node's address, takes spawns and pushes (answering the slot alone), and refuses compute with a 404", async () => {
    const door = net.urls.scheduleOnlyNode!;
    expect(door).toBeDefined();
    expect(door).not.toBe(net.urls.node);
    expect(await (await fetch(`${door}/~meta@1.0/info/address`)).text()).toBe(net.nodeAddress);
    const pid = (
      await post(door, "/push", await signed(alice.jwk, spawnTagsFor(net.schedulerId)))
    ).headers.get("process")!;
    const msg = await signed(
      alice.jwk,
      [
        { name: "Action", value: "Eval" },
        { name: "Data-Protocol", value: "ao" },
        { name: "Type", value: "Message" },
        { name: "Variant", value: "ao.N.1" },
      ],
      { target: pid, data: "return 1 + 1" },
    );
    const pushed = await post(door, `/${pid}~process@1.0/push`, msg);
    expect(pushed.body).toEqual({ slot: 1, id: expect.any(String), process: pid });
    for (const path of [
      `/${pid}~process@1.0/compute/results=1`,
      `/${pid}~process@1.0/compute=1`,
      `/${pid}~process@1.0/as=execution/compute&Action=Info`,
    ]) {
      const r = await post(door, path, msg);
      expect(r.status, path).toBe(404);
      expect(String(r.body.error)).toMatch(/schedules only/);
    }
    // The main door computes what the second one scheduled.
    expect((await ao.result({ process: pid, slot: 1 })).Output).toMatchObject({ data: "2" });
    // The legacy units are not on it.
    expect((await fetch(`${door}/graphql`, { method: "POST" })).status).toBe(404);
  });
});

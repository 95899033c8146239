import { ArweaveSigner, createData } from "@dha-team/arbundles";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { wallClock } from "../../devnet/clock";
import { aoClient, type Devnet, graphql, withDevnet } from "../support/devnet";
import { testWallet } from "../support/wallets";

// One network for the file; each test spawns what it needs.
let net: Devnet & { cleanup(): Promise<void> };
const alice = testWallet("alice");
const bob = testWallet("bob");

beforeAll(async () => {
  net = await withDevnet();
});
afterAll(async () => {
  await net?.cleanup();
});

async function spawn(jwk = alice.jwk, tags: { name: string; value: string }[] = []) {
  const ao = aoClient(net, jwk);
  return ao.spawn({ module: net.moduleId, scheduler: net.schedulerId, signer: ao.signer, tags });
}

async function evalAs(jwk: typeof alice.jwk, pid: string, code: string) {
  return aoClient(net, jwk).send(pid, [{ name: "Action", value: "Eval" }], code);
}

async function peek(pid: string, expr: string): Promise<string> {
  // Read state through an Eval-free dry-run handler installed by the tests that need it.
  const ao = aoClient(net, alice.jwk);
  const r = await ao.dryrun({ process: pid, tags: [{ name: "Action", value: "Peek" }], data: expr });
  return r.Messages[0]?.Data as string;
}

const PEEK = `Handlers.add("peek", "Peek", function(m) m.reply({ Data = tostring(load("return " .. m.Data)()) }) end)`;

async function post(raw: Buffer | string, contentType = "application/octet-stream") {
  const res = await fetch(net.urls.mu, {
    method: "POST",
    headers: { "Content-Type": contentType },
    body: typeof raw === "string" ? raw : new Uint8Array(raw),
  });
  return { status: res.status, body: (await res.json()) as { error?: string; id?: string } };
}

async function signedItem(tags: { name: string; value: string }[], target?: string) {
  const signer = new ArweaveSigner(alice.jwk as never);
  const item = createData("hello", signer, { tags, ...(target ? { target } : {}) });
  await item.sign(signer);
  return item.getRaw();
}

describe("spawning", () => {
  test("a spawned process is found through GraphQL by owner and tags", async () => {
    const name = `find-me-${Math.random().toString(36).slice(2)}`;
    const pid = await spawn(alice.jwk, [
      { name: "Name", value: name },
      { name: "App-Name", value: "Agent-Skills-Registry" },
    ]);
    const data = await graphql<{
      transactions: { edges: { node: { id: string; owner: { address: string } } }[] };
    }>(
      net,
      `query($owner: String!, $name: String!) { transactions(owners: [$owner], tags: [{ name: "Name", values: [$name] }, { name: "Type", values: ["Process"] }]) { edges { node { id owner { address } tags { name value } } } } }`,
      { owner: alice.address, name },
    );
    const body = { data };
    expect(body.data.transactions.edges.map((e) => e.node.id)).toEqual([pid]);
    expect(body.data.transactions.edges[0]!.node.owner.address).toBe(alice.address);
  });

  test("a spawn naming a module the network does not run is refused with the modules it does", async () => {
    const raw = await signedItem([
      { name: "Data-Protocol", value: "ao" },
      { name: "Type", value: "Process" },
      { name: "Module", value: "SBNb1qPQ1TDwpD_mboxm2YllmMLXpWw4U8P9Ff8W9vk" },
      { name: "Scheduler", value: net.schedulerId },
    ]);
    const r = await post(raw);
    expect(r.status).toBe(400);
    expect(r.body.error).toContain("unknown module");
    expect(r.body.error).toContain(net.moduleId);
  });
});

describe("scheduling", () => {
  test("assignments carry wall-clock timestamps, though ao-loader replaces Date.now in this process", async () => {
    const pid = await spawn();
    await evalAs(alice.jwk, pid, "return 1");
    const res = await fetch(`${net.urls.su}/${pid}`);
    const body = (await res.json()) as {
      edges: { node: { assignment: { tags: { name: string; value: string }[] } } }[];
    };
    const stamps = body.edges.map((e) =>
      Number(e.node.assignment.tags.find((t) => t.name === "Timestamp")!.value),
    );
    const now = wallClock();
    for (const ts of stamps) expect(Math.abs(now - ts)).toBeLessThan(60_000);
    expect(stamps).toEqual([...stamps].sort((a, b) => a - b));
  });
});

describe("Eval", () => {
  test("an Eval from the owner runs and its result shows the returned value", async () => {
    const pid = await spawn();
    const r = await evalAs(alice.jwk, pid, "Counter = 41; return Counter + 1");
    expect(r.Error).toBeUndefined();
    expect((r.Output as { data: string }).data).toBe("42");
  });

  test("an Eval raising a runtime error comes back in result.Error", async () => {
    const pid = await spawn();
    const r = await evalAs(alice.jwk, pid, `error("registry exploded")`);
    expect(String(r.Error)).toContain("registry exploded");
  });

  test("an Eval with a syntax error comes back in result.Error with the line", async () => {
    const pid = await spawn();
    const r = await evalAs(alice.jwk, pid, "local x = = 1");
    expect(String(r.Error)).toMatch(/unexpected symbol near '='/);
  });

  test("an Eval from another wallet changes nothing", async () => {
    const pid = await spawn();
    await evalAs(alice.jwk, pid, `${PEEK}; Secret = "alice"`);
    await evalAs(bob.jwk, pid, `Secret = "bob"`);
    expect(await peek(pid, "Secret")).toBe("alice");
  });
});

describe("dry-run", () => {
  test("answers from the current state and changes nothing", async () => {
    const pid = await spawn();
    await evalAs(
      alice.jwk,
      pid,
      `${PEEK}; N = 1
      Handlers.add("bump", "Bump", function(m) N = N + 1; m.reply({ Data = tostring(N) }) end)`,
    );
    const ao = aoClient(net, alice.jwk);
    const d1 = await ao.dryrun({ process: pid, tags: [{ name: "Action", value: "Bump" }] });
    const d2 = await ao.dryrun({ process: pid, tags: [{ name: "Action", value: "Bump" }] });
    expect(d1.Messages[0].Data).toBe("2");
    expect(d2.Messages[0].Data).toBe("2");
    expect(await peek(pid, "N")).toBe("1");
    // A real message after the dry-runs still starts from the untouched state.
    const id = await ao.message({
      process: pid,
      signer: ao.signer,
      tags: [{ name: "Action", value: "Bump" }],
    });
    const r = await ao.result({ process: pid, message: id });
    expect(r.Messages[0].Data).toBe("2");
    expect(await peek(pid, "N")).toBe("2");
    // The same dry-run as before now reads the new state (no stale cached answer).
    const d3 = await ao.dryrun({ process: pid, tags: [{ name: "Action", value: "Bump" }] });
    expect(d3.Messages[0].Data).toBe("3");
  });
});

describe("messages between parties", () => {
  test("msg.reply reaches the sending wallet: the reply is in the result, targeted to the sender", async () => {
    const pid = await spawn();
    await evalAs(alice.jwk, pid, `Handlers.add("ping", "Ping", function(m) m.reply({ Data = "pong" }) end)`);
    const ao = aoClient(net, bob.jwk);
    const id = await ao.message({
      process: pid,
      signer: ao.signer,
      tags: [{ name: "Action", value: "Ping" }],
    });
    const r = await ao.result({ process: pid, message: id });
    expect(r.Messages).toHaveLength(1);
    expect(r.Messages[0].Target).toBe(bob.address);
    expect(r.Messages[0].Data).toBe("pong");
  });

  test("two processes exchange messages through cranking, signed by the network's messenger", async () => {
    const trust = [{ name: "Authority", value: net.authority }];
    const a = await spawn(alice.jwk, trust);
    const b = await spawn(alice.jwk, trust);
    await evalAs(
      alice.jwk,
      b,
      `Handlers.add("ping", "Ping", function(m) m.reply({ Action = "Pong", Data = "pong from b" }) end)`,
    );
    await evalAs(
      alice.jwk,
      a,
      `${PEEK}; Got = nil
      Handlers.add("pong", "Pong", function(m) Got = m.Data .. " via " .. m.From end)`,
    );
    await evalAs(alice.jwk, a, `Send({ Target = "${b}", Action = "Ping" })`);
    await net.settle();
    expect(await peek(a, "Got")).toBe(`pong from b via ${b}`);
  });
});

describe("spawns from a process", () => {
  test("a process's Spawn is cranked into a new process, signed by the messenger, naming its parent", async () => {
    const parent = await spawn(alice.jwk, [{ name: "Authority", value: net.authority }]);
    await evalAs(alice.jwk, parent, `Spawn(ao.env.Module.Id, { Tags = { Name = "child-of-test" } })`);
    await net.settle();
    type Node = { id: string; owner: { address: string }; tags: { name: string; value: string }[] };
    const data = await graphql<{ transactions: { edges: { node: Node }[] } }>(
      net,
      `query($parent: String!) { transactions(tags: [{ name: "From-Process", values: [$parent] }, { name: "Type", values: ["Process"] }]) { edges { node { id owner { address } tags { name value } } } } }`,
      { parent },
    );
    const body = { data };
    const [child] = body.data.transactions.edges;
    expect(child).toBeDefined();
    expect(child!.node.owner.address).toBe(net.authority);
    expect(child!.node.tags).toContainEqual({ name: "Name", value: "child-of-test" });
    // The child runs: its first message (its own spawn) was evaluated.
    const ao = aoClient(net, alice.jwk);
    const results = (await ao.results({ process: child!.node.id, limit: 5 })) as { edges: unknown[] };
    expect(results.edges).toHaveLength(1);
  });
});

describe("results", () => {
  test("pages forwards and backwards with cursors, without gaps or repeats", async () => {
    const pid = await spawn();
    const ao = aoClient(net, alice.jwk);
    for (let i = 0; i < 7; i++) await evalAs(alice.jwk, pid, `return ${i}`);
    const seen: string[] = [];
    let from: string | undefined;
    for (;;) {
      const page = (await ao.results({ process: pid, limit: 3, sort: "ASC", ...(from ? { from } : {}) })) as {
        edges: { cursor: string; node: { Output: { data?: string } } }[];
      };
      if (page.edges.length === 0) break;
      seen.push(...page.edges.map((e) => String(e.node.Output?.data ?? "")));
      from = page.edges.at(-1)!.cursor;
    }
    // nonce 0 is the spawn itself, then the seven Evals.
    expect(seen).toHaveLength(8);
    expect(seen.slice(1)).toEqual(["0", "1", "2", "3", "4", "5", "6"]);
    const desc = (await ao.results({ process: pid, limit: 2, sort: "DESC" })) as {
      edges: { node: { Output: { data: string } } }[];
    };
    expect(desc.edges.map((e) => e.node.Output.data)).toEqual(["6", "5"]);
  });
});

describe("bad requests", () => {
  test("a malformed item is rejected with a 400 naming the problem", async () => {
    const r = await post(Buffer.from("definitely not a data item"));
    expect(r.status).toBe(400);
    expect(r.body.error).toMatch(/malformed data item/);
  });

  test("an unsigned item is rejected with a 400", async () => {
    const raw = await signedItem([{ name: "Type", value: "Message" }]);
    raw.fill(0, 2, 2 + 512);
    const r = await post(raw);
    expect(r.status).toBe(400);
    expect(r.body.error).toMatch(/unsigned data item/);
  });

  test("a tampered item is rejected with a 400", async () => {
    const pid = await spawn();
    const raw = await signedItem(
      [
        { name: "Data-Protocol", value: "ao" },
        { name: "Type", value: "Message" },
      ],
      pid,
    );
    raw.writeUInt8(raw.readUInt8(raw.length - 1) ^ 0xff, raw.length - 1); // flip a byte of the data
    const r = await post(raw);
    expect(r.status).toBe(400);
    expect(r.body.error).toMatch(/invalid signature/);
  });

  test("a message to an unknown process is a JSON 404", async () => {
    const raw = await signedItem(
      [
        { name: "Data-Protocol", value: "ao" },
        { name: "Type", value: "Message" },
      ],
      "A".repeat(43),
    );
    const r = await post(raw);
    expect(r.status).toBe(404);
    expect(r.body.error).toMatch(/unknown process/);
  });

  test("an unknown message or process on the compute unit is a JSON 404", async () => {
    const pid = await spawn();
    for (const path of [`/result/${"B".repeat(43)}?process-id=${pid}`, `/results/${"C".repeat(43)}`]) {
      const res = await fetch(`${net.urls.cu}${path}`);
      expect(res.status).toBe(404);
      expect(res.headers.get("content-type")).toBe("application/json");
      expect(((await res.json()) as { error: string }).error).toMatch(/not (scheduled|known)/);
    }
    const dry = await fetch(`${net.urls.cu}/dry-run?process-id=${"D".repeat(43)}`, {
      method: "POST",
      body: "{}",
    });
    expect(dry.status).toBe(404);
  });
});

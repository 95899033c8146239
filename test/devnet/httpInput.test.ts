import { rmSync } from "node:fs";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { signItem } from "../../devnet/dataItem";
import { aoClient, startDevnetProcess, tempDataDir } from "../support/devnet";
import { testWallet } from "../support/wallets";

// Hostile HTTP input against the network's own CLI in a child process: a crash shows as its exit, which an
// in-process network would hide inside the test runner.
let net: Awaited<ReturnType<typeof startDevnetProcess>>;
let dataDir: string;
let pid: string;
const alice = testWallet("alice");

beforeAll(async () => {
  dataDir = tempDataDir("devnet-http-input-");
  net = await startDevnetProcess(dataDir);
  const ao = aoClient(net, alice.jwk);
  pid = await ao.spawn({ module: net.moduleId, scheduler: net.schedulerId, signer: ao.signer });
});
afterAll(async () => {
  await net?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  type: string | null;
  body: { error?: unknown; errors?: { message?: unknown }[] } & Record<string, unknown>;
  size: number;
}

async function request(path: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(`${net.urls.mu}${path}`, init);
  const text = await res.text();
  let body: Answer["body"] = {};
  try {
    body = JSON.parse(text) as Answer["body"];
  } catch {
    // left empty: the assertions on the body then fail with the status and type shown
  }
  return { status: res.status, type: res.headers.get("content-type"), body, size: text.length };
}

const postBytes = (path: string, body: Uint8Array | string) =>
  request(path, { method: "POST", body: typeof body === "string" ? body : new Uint8Array(body) });
const postJson = (path: string, body: unknown) => postBytes(path, JSON.stringify(body));

/** The message of an error answer: `error` for the units, `errors[0].message` for GraphQL. */
function errorOf(a: Answer): string {
  const m = a.body.error ?? a.body.errors?.[0]?.message;
  return typeof m === "string" ? m : "";
}

/** A 4xx with a JSON body whose error names the problem. */
function expectRefused(a: Answer, status: number | RegExp = /^4\d\d$/, message: RegExp = /\w{3}/) {
  const shown = `${a.status} ${JSON.stringify(a.body)}`;
  if (typeof status === "number") expect(a.status, shown).toBe(status);
  else expect(String(a.status), shown).toMatch(status);
  expect(a.type, shown).toBe("application/json");
  expect(errorOf(a), shown).toMatch(message);
}

/** The network answers and its process is alive. */
async function expectAlive() {
  const info = await request("/info");
  expect(info.status).toBe(200);
  expect(net.child.exitCode).toBeNull();
  expect(net.child.signalCode).toBeNull();
}

describe("POST / (messenger): bodies that are no signed data item", () => {
  test("2,000 bytes of 0xFF (an unknown signature type) get a 400 and the network keeps running", async () => {
    expectRefused(await postBytes("/", new Uint8Array(2000).fill(0xff)), 400, /signature type/);
    // The reply came before the crash: give a floating rejection the time to end the process.
    await new Promise((r) => setTimeout(r, 300));
    await expectAlive();
  });

  const garbage: [string, () => Uint8Array | string][] = [
    ["empty", () => ""],
    ["JSON null", () => "null"],
    ["a JSON object", () => JSON.stringify({ Tags: [] })],
    ["unicode text", () => "☃".repeat(600)],
    ["every unknown signature type", () => Buffer.concat([Buffer.from([0x00, 0x63]), Buffer.alloc(1100, 7)])],
    ["signature type 0", () => Buffer.alloc(2000)],
    [
      "an Arweave signature type with random bytes",
      () => Buffer.concat([Buffer.from([0x01, 0x00]), Buffer.alloc(1500, 0xab)]),
    ],
    [
      "an Arweave item whose tag count is huge",
      () => {
        const b = Buffer.alloc(1100 + 80);
        b.writeUInt16LE(1, 0);
        b.fill(0x41, 2, 2 + 512 + 512); // signature and owner
        b.writeUInt8(0, 1026); // no target
        b.writeUInt8(0, 1027); // no anchor
        b.writeBigUInt64LE(0xffffffffffn, 1028); // tag count
        b.writeBigUInt64LE(0xffffffffn, 1036); // tag bytes
        return b;
      },
    ],
  ];
  test.each(garbage)("%s: a 400 naming the data item", async (_name, body) => {
    expectRefused(await postBytes("/", body()), 400, /data item|signature/);
  });

  test("the network still answers after every malformed item", async () => {
    await new Promise((r) => setTimeout(r, 300));
    await expectAlive();
  });
});

describe("POST /dry-run: bodies and parameters that are not a dry-run", () => {
  const bodies: [string, string][] = [
    ["not JSON", "{Tags:"],
    ["JSON null", "null"],
    ["an array", "[]"],
    ["a number", "12"],
    ["Tags as a string", JSON.stringify({ Tags: "Action=Info" })],
    ["a null tag", JSON.stringify({ Tags: [null] })],
    ["a tag without a value", JSON.stringify({ Tags: [{ name: "Action" }] })],
    ["a tag with a numeric name", JSON.stringify({ Tags: [{ name: 1, value: "x" }] })],
    ["a tag with an object value", JSON.stringify({ Tags: [{ name: "Action", value: { a: 1 } }] })],
    ["Owner as a number", JSON.stringify({ Owner: 5, Tags: [] })],
    ["Owner as an array", JSON.stringify({ Owner: ["x"], Tags: [] })],
    ["Data as an object", JSON.stringify({ Data: { a: 1 }, Tags: [] })],
    ["Target as null", JSON.stringify({ Target: null, Tags: [] })],
    ["Timestamp as text", JSON.stringify({ Timestamp: "abc", Tags: [] })],
    ["Block-Height negative", JSON.stringify({ "Block-Height": -1, Tags: [] })],
    ["Timestamp huge", '{"Timestamp":1e400,"Tags":[]}'],
  ];
  test.each(bodies)("%s: a 400 naming the field", async (_name, body) => {
    expectRefused(await postBytes(`/dry-run?process-id=${pid}`, body), 400);
  });

  test("the finding's examples name the field at fault", async () => {
    const tags = await postJson(`/dry-run?process-id=${pid}`, { Tags: "Action=Info" });
    expectRefused(tags, 400, /Tags/);
    const nullTag = await postJson(`/dry-run?process-id=${pid}`, { Tags: [null] });
    expectRefused(nullTag, 400, /Tags\[0\]/);
  });

  const queries: [string, string][] = [
    ["no process-id", ""],
    ["an empty process-id", "?process-id="],
    ["a process-id that is no ID", "?process-id=abc"],
    ["a unicode process-id", `?process-id=${encodeURIComponent("☃".repeat(43))}`],
    ["process-id twice", `?process-id=${"D".repeat(43)}&process-id=${"E".repeat(43)}`],
    ["an unknown parameter", `?process-id=${"D".repeat(43)}&limit=5`],
  ];
  test.each(queries)("%s: a 400 naming the parameter", async (_name, query) => {
    expectRefused(await postJson(`/dry-run${query}`, { Tags: [] }), 400, /process-id|parameter/);
  });

  test("a well-formed dry-run still answers", async () => {
    const ok = await postJson(`/dry-run?process-id=${pid}`, {
      Id: "1234",
      Owner: alice.address,
      Target: pid,
      Data: "☃ unicode is fine",
      Tags: [{ name: "Action", value: "Info" }],
    });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    await expectAlive();
  });
});

describe("query parameters of the reading routes", () => {
  const pages: [string, string][] = [
    ["limit=-1", "limit=-1"],
    ["limit=0", "limit=0"],
    ["limit=abc", "limit=abc"],
    ["limit=1.5", "limit=1.5"],
    ["limit=1e3", "limit=1e3"],
    ["limit over the maximum", "limit=1001"],
    ["a huge limit", "limit=99999999999999999999999"],
    ["limit given twice", "limit=5&limit=6"],
    ["limit with unicode digits", `limit=${encodeURIComponent("１２")}`],
    ["from=abc", "from=abc"],
    ["to=abc", "to=abc"],
    ["from negative", "from=-5"],
    ["to huge", `to=${"9".repeat(400)}`],
    ["an unknown parameter", "fromm=1"],
  ];
  test.each(pages)("/su/<pid>?%s: a 400 naming the parameter", async (_name, query) => {
    expectRefused(await request(`/su/${pid}?${query}`), 400, /limit|from|to|parameter/);
  });
  test.each(pages)("/results/<pid>?%s: a 400 naming the parameter", async (_name, query) => {
    expectRefused(await request(`/results/${pid}?${query}`), 400, /limit|from|to|parameter|cursor/);
  });

  test("/su/<pid> and /results/<pid> answer the finding's parameters alike", async () => {
    for (const query of ["limit=-1", "from=abc", "to=abc"]) {
      const su = await request(`/su/${pid}?${query}`);
      const results = await request(`/results/${pid}?${query}`);
      expect([su.status, results.status], query).toEqual([400, 400]);
    }
  });

  test("valid bounds and limits still page", async () => {
    const su = await request(`/su/${pid}?from=0&to=${"9".repeat(15)}&limit=1`);
    expect(su.status, JSON.stringify(su.body)).toBe(200);
    expect((su.body.edges as unknown[]).length).toBe(1);
    const results = await request(`/results/${pid}?sort=desc&limit=1000`);
    expect(results.status, JSON.stringify(results.body)).toBe(200);
  });

  const others: [string, string][] = [
    ["/result/<id> without process-id", `/result/${"B".repeat(43)}`],
    ["/result/<id> with a malformed process-id", `/result/${"B".repeat(43)}?process-id=x`],
    ["/result/<id> with a malformed message id", `/result/abc?process-id=${"B".repeat(43)}`],
    ["/su/<id> with a malformed id", "/su/abc"],
    ["/su/<id> with a malformed process-id", `/su/${"B".repeat(43)}?process-id=%E2%98%83`],
    ["/results/<pid> with sort=sideways", `/results/${"B".repeat(43)}?sort=sideways`],
    ["/info with a parameter", "/info?debug=1"],
    ["/su/timestamp with a parameter", "/su/timestamp?x=1"],
  ];
  test.each(others)("%s: a 400", async (_name, path) => {
    expectRefused(await request(path), 400);
  });
});

describe("POST /graphql", () => {
  const bodies: [string, string][] = [
    ["not JSON", "{query"],
    ["JSON null", "null"],
    ["an array", "[]"],
    ["a string", '"{ transactions { count } }"'],
    ["no query", "{}"],
    ["query as a number", JSON.stringify({ query: 5 })],
    ["query as null", JSON.stringify({ query: null })],
    ["variables as a string", JSON.stringify({ query: "{ transactions { count } }", variables: "x" })],
    ["variables as an array", JSON.stringify({ query: "{ transactions { count } }", variables: [] })],
    ["operationName as a number", JSON.stringify({ query: "{ transactions { count } }", operationName: 1 })],
    ["a syntax error", JSON.stringify({ query: "{ transactions { " })],
    ["unicode garbage", JSON.stringify({ query: "{ ☃ }" })],
    ["an unknown field", JSON.stringify({ query: "{ nope }" })],
    ["first out of Int range", JSON.stringify({ query: "{ transactions(first: 99999999999) { count } }" })],
    [
      "first as a variable of the wrong type",
      JSON.stringify({
        query: "query($n: Int) { transactions(first: $n) { count } }",
        variables: { n: "ten" },
      }),
    ],
  ];
  test.each(bodies)("%s: a 400 with a message", async (_name, body) => {
    expectRefused(await postBytes("/graphql", body), 400);
  });

  test('"variables":"not-an-object" is a 400 naming variables', async () => {
    const a = await postJson("/graphql", { query: "{ transactions { count } }", variables: "not-an-object" });
    expectRefused(a, 400, /variables/);
  });

  test("300 aliases of transactions(first: 100) are refused for their cost, before running", async () => {
    const fields = Array.from(
      { length: 300 },
      (_, i) =>
        `a${i}: transactions(first: 100) { edges { node { id owner { address key } tags { name value } } } }`,
    );
    const a = await postJson("/graphql", { query: `{ ${fields.join(" ")} }` });
    expectRefused(a, 400, /cost .*limit/);
    expect(a.size).toBeLessThan(10_000);
  });

  test("a cost hidden in variables counts too", async () => {
    const fields = Array.from(
      { length: 300 },
      (_, i) => `a${i}: transactions(first: $n) { edges { node { id } } }`,
    );
    const a = await postJson("/graphql", {
      query: `query($n: Int) { ${fields.join(" ")} }`,
      variables: { n: 100 },
    });
    expectRefused(a, 400, /cost .*limit/);
  });

  test("20,000 nested fragments get an error with a message about nesting", async () => {
    const n = 20_000;
    const fragments = Array.from(
      { length: n },
      (_, i) => `fragment F${i} on Query { ${i + 1 < n ? `...F${i + 1}` : "transactions { count }"} }`,
    );
    const a = await postJson("/graphql", { query: `{ ...F0 } ${fragments.join(" ")}` });
    expectRefused(a, 400, /nest|token/);
  });

  test("50 nested fragments, within the token limit, are refused for their nesting", async () => {
    const fragments = Array.from(
      { length: 50 },
      (_, i) => `fragment F${i} on Query { ${i < 49 ? `...F${i + 1}` : "transactions { count }"} }`,
    );
    const a = await postJson("/graphql", { query: `{ ...F0 } ${fragments.join(" ")}` });
    expectRefused(a, 400, /nests .* levels deep/);
  });

  test("a fragment that spreads itself is refused with a message", async () => {
    const a = await postJson("/graphql", {
      query: "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }",
    });
    expectRefused(a, 400, /spreads itself|cycle/i);
  });

  test("deeply nested selections and fragment fan-out are refused with a message", async () => {
    const deep = `{ ${"transactions { edges { node { ".repeat(40)}id${" } } }".repeat(40)} }`;
    expectRefused(await postJson("/graphql", { query: deep }), 400, /nest|depth/);
    // Each fragment spreads the next twice: 2^30 fields if expanded.
    const fanOut = Array.from(
      { length: 30 },
      (_, i) =>
        `fragment G${i} on TransactionConnection { ${i < 29 ? `...G${i + 1} ...G${i + 1}` : "count"} }`,
    );
    const a = await postJson("/graphql", { query: `{ transactions { ...G0 } } ${fanOut.join(" ")}` });
    expectRefused(a, 400);
  });

  test("every GraphQL error carries a message", async () => {
    for (const query of [
      '{ transactions(first: "x") { count } }',
      "{ transaction { id } }",
      "query A { x } query A { y }",
    ]) {
      const a = await postJson("/graphql", { query });
      expect(a.status).toBe(400);
      for (const e of a.body.errors ?? [])
        expect(typeof e.message === "string" && e.message.length > 0).toBe(true);
    }
  });

  test("the queries aoconnect and the provider make still run", async () => {
    const a = await postJson("/graphql", {
      query: `query($ids: [ID!]!) { transactions(ids: $ids, first: 100) { pageInfo { hasNextPage }
        edges { cursor node { id anchor signature recipient owner { address key } fee { winston ar }
        quantity { winston ar } data { size type } tags { name value } block { id timestamp height previous } } } } }`,
      variables: { ids: [pid] },
    });
    expect(a.status, JSON.stringify(a.body)).toBe(200);
    expect(a.body.errors).toBeUndefined();
    await expectAlive();
  });
});

describe("oversized bodies", () => {
  const big = new Uint8Array(20 * 1024 * 1024).fill(0x20);
  test.each([
    ["/", () => "/"],
    ["/graphql", () => "/graphql"],
    ["/dry-run?process-id=<pid>", () => `/dry-run?process-id=${pid}`],
  ])("20 MiB to %s: a JSON 413 naming the limit, received by the client", async (_, path) => {
    expectRefused(await postBytes(path(), big), 413, /limit .*bytes|bytes .*limit/);
  });

  test("20 MiB to /dry-run of an unknown process: the 404, answered before the body is read, is received", async () => {
    expectRefused(await postBytes(`/dry-run?process-id=${"D".repeat(43)}`, big), 404, /not known/);
    await expectAlive();
  });

  test("a chunked body without Content-Length gets the 413 too", async () => {
    const chunk = new Uint8Array(1024 * 1024).fill(0x20);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        if (sent++ < 20) c.enqueue(chunk);
        else c.close();
      },
    });
    const a = await request("/graphql", { method: "POST", body, duplex: "half" } as RequestInit);
    expectRefused(a, 413, /limit/);
    await expectAlive();
  });
});

describe("connections", () => {
  test.each([
    ["a garbage request line", "GARBAGE\r\n\r\n"],
    ["a non-numeric Content-Length", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n"],
    ["a header without a colon", "GET /info HTTP/1.1\r\nHost: x\r\nnot a header\r\n\r\n"],
  ])("%s gets a JSON 400 from the HTTP parser", async (_name, raw) => {
    const answer = await new Promise<string>((resolve, reject) => {
      const { port } = new URL(net.urls.mu);
      const socket = connect(Number(port), "127.0.0.1", () => socket.write(raw));
      let text = "";
      socket.on("data", (d) => {
        text += d.toString();
      });
      socket.on("end", () => resolve(text));
      socket.on("error", reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).toMatch(/content-type: application\/json/i);
    expect(answer).toMatch(/\{"error":"malformed HTTP request/);
    await expectAlive();
  });

  test("idle keep-alive connections stay open 30 s, so a busy moment does not reset the next request", async () => {
    // Node's 5 s default let a keep-alive timer close a socket holding an unread request when booting a
    // process blocked the event loop for longer (seen as ECONNRESET in this file and durability.test.ts).
    const res = await fetch(`${net.urls.mu}/info`);
    await res.text();
    expect(res.headers.get("keep-alive")).toBe("timeout=30");
  });
});

/** One request over a socket of its own, its request target written exactly as given (fetch would normalise it). */
async function rawRequest(method: string, target: string, body: Buffer = Buffer.alloc(0), headers = "") {
  const text = await new Promise<string>((resolve, reject) => {
    const { port } = new URL(net.urls.mu);
    const socket = connect(Number(port), "127.0.0.1", () => {
      socket.write(
        `${method} ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${headers}Content-Length: ${body.length}\r\n\r\n`,
      );
      socket.write(body);
    });
    let out = "";
    socket.on("data", (d) => {
      out += d.toString();
    });
    socket.on("end", () => resolve(out));
    socket.on("error", reject);
  });
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
  const payload = text.slice(text.indexOf("\r\n\r\n") + 4);
  let json: { error?: string } = {};
  try {
    json = JSON.parse(payload) as { error?: string };
  } catch {
    // left empty: the assertions on the body then fail with the text shown
  }
  return { status, error: json.error ?? "", text };
}

describe("request paths are routed as sent, never normalised (issue 19, 6)", () => {
  const ansHeaders = "Content-Type: application/ans104\r\ncodec-device: ans104@1.0\r\n";
  test.each([
    ["POST", "//push", /an empty segment \(\/\/\)/],
    ["POST", "//", /an empty segment/],
    ["POST", "//mu", /an empty segment/],
    ["POST", "/mu//", /an empty segment/],
    ["POST", "/./push", /a dot segment \("\."\)/],
    ["POST", "/mu/../push", /a dot segment \(".."\)/],
    ["POST", "/%2e/push", /a dot segment \("%2e"\)/],
    ["POST", "/%2E%2E/mu", /a dot segment/],
    ["POST", "/\\push", /a backslash/],
    ["POST", "http://127.0.0.1/push", /is not a path/],
    ["GET", "//su", /an empty segment/],
    ["GET", "/su//", /an empty segment/],
    ["GET", "/./info", /a dot segment/],
  ])("%s %s: a 400 naming the problem; nothing is served", async (method, target, expected) => {
    // A spawn the messenger would accept: served anywhere, it would create a process.
    const { item, raw } = await signItem(alice.jwk, {
      data: "",
      tags: [
        { name: "Data-Protocol", value: "ao" },
        { name: "Type", value: "Process" },
        { name: "Module", value: net.moduleId },
        { name: "Scheduler", value: net.schedulerId },
        { name: "Nonce", value: `${method} ${target}` },
      ],
    });
    const a = await rawRequest(method, target, method === "POST" ? raw : undefined, ansHeaders);
    expect(a.status, a.text).toBe(400);
    expect(a.error).toMatch(expected);
    expect((await request(`/su/${item.id}`)).status).toBe(404);
  });

  test("one trailing slash is still allowed: GET /su/ and /info/ answer", async () => {
    expect((await rawRequest("GET", "/su/")).status).toBe(200);
    expect((await rawRequest("GET", "/info/")).status).toBe(200);
    expect((await rawRequest("GET", `/su/${pid}/?limit=1`)).status).toBe(200);
  });
});

describe("bad percent-escapes are a 400, never taken literally (issue 19, 6)", () => {
  test.each([
    [
      "a dry-run tag value %ZZ",
      () => `/${pid}~process@1.0/as=execution/compute&Action=%ZZ`,
      /bad percent-escape "%ZZ"/,
    ],
    [
      "a dry-run tag value with a lone %",
      () => `/${pid}~process@1.0/as=execution/compute&Action=50%`,
      /bad percent-escape "%"/,
    ],
    ["a dry-run tag name %Z", () => `/${pid}~process@1.0/as=execution/compute&A%Z=x`, /bad percent-escape/],
    [
      "a dry-run tag value %FF (not UTF-8)",
      () => `/${pid}~process@1.0/as=execution/compute&Action=%FF`,
      /not UTF-8/,
    ],
    ["a process id with %ZZ", () => `/${pid.slice(0, 40)}%ZZ~process@1.0/push`, /bad percent-escape/],
    ["a slot %3", () => `/${pid}~process@1.0/compute/results=%3`, /bad percent-escape/],
  ])("%s in a mainnet path", async (_name, path, expected) => {
    const { raw } = await signItem(alice.jwk, {
      data: "",
      tags: [{ name: "Type", value: "Message" }],
      target: pid,
    });
    const a = await rawRequest("POST", path(), raw, "Content-Type: application/ans104\r\n");
    expect(a.status, a.text).toBe(400);
    expect(a.error).toMatch(expected);
  });

  test.each([
    ["/su/<pid>?limit=%ZZ", () => `/su/${pid}?limit=%ZZ`],
    ["/su/<pid>?process-id=%", () => `/su/${pid}?process-id=%`],
    ["/results/<pid>?sort=%E", () => `/results/${pid}?sort=%E`],
    ["/results/<pid>?from=%FF", () => `/results/${pid}?from=%FF`],
    ["/result/<id>?process-id=%G1", () => `/result/${pid}?process-id=%G1`],
    ["a parameter name %ZZ", () => `/results/${pid}?%ZZ=1`],
  ])("%s in a query: a 400", async (_name, path) => {
    const a = await rawRequest("GET", path());
    expect(a.status, a.text).toBe(400);
    expect(a.error).toMatch(/bad percent-escape|not UTF-8/);
  });
});

describe("every empty query parameter is a 400 (issue 19, 6)", () => {
  test.each([
    ["GET", () => `/results/${pid}?limit=`, /query parameter limit is empty/],
    ["GET", () => `/results/${pid}?limit`, /query parameter limit is empty/],
    ["GET", () => `/results/${pid}?sort=`, /query parameter sort is empty/],
    ["GET", () => `/results/${pid}?from=`, /query parameter from is empty/],
    ["GET", () => `/results/${pid}?to=`, /query parameter to is empty/],
    ["GET", () => `/su/${pid}?limit=`, /query parameter limit is empty/],
    ["GET", () => `/su/${pid}?from=`, /query parameter from is empty/],
    ["GET", () => `/su/${pid}?to=`, /query parameter to is empty/],
    ["GET", () => `/su/${pid}?process-id=`, /query parameter process-id is empty/],
    ["GET", () => `/result/${pid}?process-id=`, /query parameter process-id is empty/],
    ["POST", () => "/dry-run?process-id=", /query parameter process-id is empty/],
    ["GET", () => `/results/${pid}?&limit=1`, /an empty query parameter/],
    ["GET", () => `/results/${pid}?limit=1&`, /an empty query parameter/],
  ])("%s %s", async (method, path, expected) => {
    const a = await rawRequest(method, path(), method === "POST" ? Buffer.from("{}") : undefined);
    expect(a.status, a.text).toBe(400);
    expect(a.error).toMatch(expected);
  });
});

describe("after everything above", () => {
  test("the network answers and its process never exited", async () => {
    await new Promise((r) => setTimeout(r, 300));
    await expectAlive();
    const ao = aoClient(net, alice.jwk);
    const r = await ao.dryrun({ process: pid, tags: [{ name: "Action", value: "Info" }] });
    expect(r.Error).toBeUndefined();
  });
});

import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
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

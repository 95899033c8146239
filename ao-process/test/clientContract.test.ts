/**
 * The client contract (ao-process/README.md): a client that follows it reads whole data at every step of a
 * whole move and of a whole rollback, and no process being filled answers a read as if its data were
 * whole. The steps are the deploy's (providers/stateMove.ts), sent one by one, with every read a client
 * makes (List-Skills and Search-Skills page by page, Get-Skill of each skill) between them; on the real
 * aos module in the local network, through aoconnect.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Devnet, withDevnet } from "../../test/support/devnet";
import { type Answer, ContractClient } from "./support/client";
import {
  type Actor,
  actor,
  type Body,
  contentHash,
  deployRegistry,
  expectError,
  expectOk,
  Registry,
  spawnProcess,
  txId,
} from "./support/registry";

let net: Devnet & { cleanup(): Promise<void> };
let owner: Actor;
let alice: Actor;
let reader: Actor;

beforeAll(async () => {
  net = await withDevnet();
  owner = actor(net, "registry-owner");
  alice = actor(net, "alice");
  reader = actor(net, "contract-reader");
});

afterAll(async () => {
  await net?.cleanup();
});

async function newRegistry(name: string, open: boolean): Promise<Registry> {
  const pid = await spawnProcess(net, owner, name);
  await deployRegistry(owner, pid, `${name}-1`, { open });
  return new Registry(pid);
}

/** What a client reads of the whole registry, and which processes answered. */
interface Snapshot {
  list: Body[];
  search: Body[];
  skills: Body[];
  answeredBy: string[];
}

/** Every read a client makes, through `read` (a client, or one process read directly). */
async function snapshot(read: (action: string, data: object) => Promise<Answer>): Promise<Snapshot> {
  const answeredBy = new Set<string>();
  const ok = async (action: string, data: object) => {
    const a = await read(action, data);
    expect(a.status, `${action} at ${a.process}: ${JSON.stringify(a.body)}`).toBe("OK");
    answeredBy.add(a.process);
    return a.body;
  };
  const pages = async (action: string, data: object) => {
    const out: Body[] = [];
    let cursor: string | null = null;
    do {
      const page: Body = await ok(action, { ...data, limit: 3, ...(cursor ? { cursor } : {}) });
      out.push(...page.skills);
      cursor = page.nextCursor;
    } while (cursor !== null);
    return out;
  };
  const list = await pages("List-Skills", {});
  const search = await pages("Search-Skills", { query: "skill", includeDeprecated: true });
  const skills: Body[] = [];
  for (const s of list) skills.push((await ok("Get-Skill", { name: s.name })).skill);
  return { list, search, skills, answeredBy: [...answeredBy] };
}

const direct = (r: Registry) => async (action: string, data: object) => ({
  ...(await r.read(reader, action, data, [], { owner: "" })),
  process: r.processId,
});

/** A process being filled answers no registry read: E_SEALED, naming where to read when it knows. */
async function refusesReads(r: Registry, readFrom: string | undefined) {
  for (const [action, data] of [
    ["List-Skills", {}],
    ["Search-Skills", { query: "skill" }],
    ["Get-Skill", { name: "skill-00" }],
    ["Export-State", {}],
  ] as const) {
    const e = expectError(await r.read(reader, action, data, [], { owner: "" }), "E_SEALED");
    expect(e.tags["Read-From"]).toBe(readFrom);
  }
}

async function importAll(into: Registry, from: Registry, after: () => Promise<void>) {
  const pages: Body[] = [];
  let cursor: string | null = null;
  do {
    const page: Body = expectOk(
      await from.read(reader, "State-Export", { cursor, maxBytes: 1024 }, [], { owner: "" }),
    );
    pages.push(page.entries);
    cursor = page.nextCursor;
  } while (cursor !== null);
  expect(pages.length).toBeGreaterThan(2);
  for (const [i, entries] of pages.entries()) {
    expectOk(await into.send(owner, "State-Import", { from: from.processId, page: i + 1, entries }));
    await after();
  }
}

/** Waits until `r` holds `from`'s report of itself; returns it. */
async function reportOf(r: Registry, from: string): Promise<Body> {
  for (let i = 0; i < 300; i++) {
    const st = expectOk(await r.read(reader, "State-Info")).stateTransfer;
    if (st.source?.process === from && st.source.report) return st.source.report;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no report from ${from} reached ${r.processId}`);
}

describe("a client that follows the contract", () => {
  it("reads whole data at every step of a move and of a rollback, and the process being filled answers none", async () => {
    const a = await newRegistry("contract-a", true);
    for (let i = 0; i < 8; i++) {
      expectOk(
        await a.send(alice, "Register-Skill", {
          name: `skill-${String(i).padStart(2, "0")}`,
          description: `skill ${i}: ${"text ".repeat(20)}`,
          tags: ["contract"],
          version: "1.0.0",
          txId: txId(`c${i}`),
          contentHash: contentHash(i),
        }),
      );
    }
    const b = await newRegistry("contract-b", false);
    const whole = await snapshot(direct(a));
    const client = new ContractClient(reader, a.processId);
    /** The client reads `want`, answered by `by`; so does a client that starts at `start`. */
    const check = async (want: Snapshot, by: string, start?: string) => {
      const seen = await snapshot((action, data) => client.read(action, data));
      expect({ ...seen, answeredBy: [] }).toEqual({ ...want, answeredBy: [] });
      expect(seen.answeredBy).toEqual([by]);
      if (start) {
        const fresh = new ContractClient(reader, start);
        const got = await snapshot((action, data) => fresh.read(action, data));
        expect({ ...got, answeredBy: [] }).toEqual({ ...want, answeredBy: [] });
        expect(got.answeredBy).toEqual([by]);
      }
    };
    await check(whole, a.processId);

    // The move: a is frozen for b (it stays whole), b is filled page by page, then opened.
    expectOk(await a.send(owner, "State-Freeze", { successor: b.processId }));
    await refusesReads(b, undefined);
    await check(whole, a.processId);
    await importAll(b, a, async () => {
      await refusesReads(b, a.processId);
      await check(whole, a.processId, b.processId);
    });
    expectOk(
      await b.send(owner, "State-Open", {
        digest: expectOk(await a.read(reader, "State-Info")).stateTransfer.digest,
      }),
    );
    await check(whole, b.processId, a.processId);
    expect(client.current).toBe(b.processId);

    // A write in b: what every client reads from now on.
    expectOk(
      await b.send(alice, "Publish-Version", {
        name: "skill-03",
        version: "2.0.0",
        txId: txId("c3-2"),
        contentHash: contentHash(32),
      }),
    );
    const after = await snapshot(direct(b));
    expect(after).not.toEqual(whole);
    await check(after, b.processId, a.processId);

    // The rollback: a is asked to take b's state back (from then on it answers no read), b is frozen
    // for a (it stays whole), b confirms it to a, a is filled page by page, then opened.
    expectOk(await a.send(owner, "State-Confirm", { from: b.processId }));
    await refusesReads(a, b.processId);
    await check(after, b.processId, a.processId);
    expect((await reportOf(a, b.processId)).status).toBe("open");
    expectOk(await b.send(owner, "State-Freeze", { successor: a.processId }));
    await check(after, b.processId, a.processId);
    expectOk(await a.send(owner, "State-Confirm", { from: b.processId }));
    expect((await reportOf(a, b.processId)).status).toBe("frozen");
    await importAll(a, b, async () => {
      await refusesReads(a, b.processId);
      await check(after, b.processId, a.processId);
    });
    expectOk(
      await a.send(owner, "State-Open", {
        digest: expectOk(await b.read(reader, "State-Info")).stateTransfer.digest,
      }),
    );
    await check(after, a.processId, b.processId);
    expect(client.current).toBe(a.processId);
  }, 600_000);
});

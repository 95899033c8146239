/**
 * The move's pure parts: the canonical encoding and digest (STATE-TRANSFER.md), and what a move does
 * given what its two processes report (moveSituation). The move itself runs against the real registry
 * in stateMove.e2e.test.ts.
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { AoClient, AoResult } from "../../providers/aoApi";
import type { LegacyEndpoints } from "../../providers/aoValues";
import { describeSize, moveSituation, moveStateWith, settleProcessWith } from "../../providers/stateMove";
import {
  CONFIRM_ASKS,
  canonicalJson,
  confirmationOf,
  digestOf,
  EMPTY_DIGEST,
  type TransferClient,
  type TransferInfo,
  transferClient,
} from "../../providers/stateTransfer";
import { thrown } from "../support/thrown";
import { ID } from "./support/inputs";

const sha = (s: string) => BigInt(`0x${createHash("sha256").update(s, "utf8").digest("hex")}`);
const hex = (n: bigint) => (n % (1n << 256n)).toString(16).padStart(64, "0");

describe("canonical JSON (RFC 8785 for the values entries use)", () => {
  it("sorts keys, drops whitespace, and escapes strings as JSON.stringify does", () => {
    expect(canonicalJson({ b: 1, a: [true, null, "x"], c: { z: 0, y: -5 } })).toBe(
      '{"a":[true,null,"x"],"b":1,"c":{"y":-5,"z":0}}',
    );
    expect(canonicalJson('tab\there\nquote" back\\ \u0001 \u007f é 😀 /')).toBe(
      '"tab\\there\\nquote\\" back\\\\ \\u0001 \u007f é 😀 /"',
    );
  });

  it("orders keys by UTF-16 code units, as JCS does", () => {
    expect(canonicalJson({ "\u00e9": 1, z: 2, Z: 3, "😀": 4, "\ufb01": 5 })).toBe(
      '{"Z":3,"z":2,"é":1,"😀":4,"ﬁ":5}',
    );
  });

  it("refuses what entries never hold: fractions, unsafe integers, functions", () => {
    expect(() => canonicalJson(1.5)).toThrow(/not a safe integer/);
    expect(() => canonicalJson(2 ** 60)).toThrow(/not a safe integer/);
    expect(() => canonicalJson(() => 1)).toThrow(/cannot encode a function/);
  });
});

describe("the digest: a sum mod 2^256 of each entry's SHA-256", () => {
  const a = { kind: "skill", name: "a" };
  const b = { kind: "version", skill: "a", version: "1.0.0" };

  it("is 64 zeros for an empty state and the entry's own hash for one entry", () => {
    expect(digestOf([])).toEqual({ digest: EMPTY_DIGEST, entries: 0, bytes: 0 });
    const text = '{"kind":"skill","name":"a"}';
    expect(digestOf([a])).toEqual({ digest: hex(sha(text)), entries: 1, bytes: text.length });
  });

  it("ignores order and adds up, so a process can keep it current on every write", () => {
    expect(digestOf([a, b]).digest).toBe(digestOf([b, a]).digest);
    expect(digestOf([a, b]).digest).toBe(hex(sha(canonicalJson(a)) + sha(canonicalJson(b))));
  });

  it("tells a lost, a duplicated and an altered entry apart from the original", () => {
    const original = digestOf([a, b]).digest;
    expect(digestOf([a]).digest).not.toBe(original);
    expect(digestOf([a, b, b]).digest).not.toBe(original);
    expect(digestOf([a, { ...b, version: "1.0.1" }]).digest).not.toBe(original);
  });
});

const info = (patch: Partial<TransferInfo> = {}): TransferInfo => ({
  protocol: 1,
  status: "open",
  digest: EMPTY_DIGEST,
  entries: 0,
  bytes: 0,
  successor: null,
  predecessor: null,
  import: null,
  owner: ID("w"),
  ...patch,
});

describe("what a move does, given what its two processes report", () => {
  const A = ID("a");
  const B = ID("b");
  const C = ID("c");
  const W = ID("w");
  const situation = (
    from: Partial<TransferInfo>,
    to: Partial<TransferInfo>,
    abandoned?: Partial<TransferInfo>,
    wallet = W,
  ) =>
    moveSituation(
      { id: A, info: info(from) },
      { id: B, info: info(to) },
      wallet,
      abandoned ? { id: C, info: info(abandoned) } : undefined,
    );

  it("freezes an open process and moves into a sealed one", () => {
    expect(situation({}, { status: "sealed" })).toEqual({
      action: "move",
      freeze: true,
      unfreezeFirst: false,
      confirm: false,
    });
  });

  it("resumes without freezing again, whatever the new process already holds", () => {
    const frozen = { status: "frozen" as const, successor: B };
    expect(situation(frozen, { status: "sealed" })).toMatchObject({ action: "move", freeze: false });
    expect(situation(frozen, { status: "sealed", import: { from: A, pages: 3 } })).toMatchObject({
      action: "move",
      freeze: false,
    });
  });

  it("recognises a move an earlier run completed (the new process opened with this predecessor)", () => {
    expect(situation({ status: "frozen", successor: B }, { status: "open", predecessor: A })).toEqual({
      action: "done",
    });
  });

  it("moves back into a predecessor frozen for this process (a rollback)", () => {
    expect(situation({}, { status: "frozen", successor: A })).toMatchObject({ action: "move", freeze: true });
  });

  it("has a version 2 rollback target get the confirmation of the process it takes back (version 1 takes the owner's word)", () => {
    expect(situation({ protocol: 2 }, { protocol: 2, status: "frozen", successor: A })).toMatchObject({
      action: "move",
      confirm: true,
    });
    expect(situation({ protocol: 2 }, { protocol: 1, status: "frozen", successor: A })).toMatchObject({
      confirm: false,
    });
    // A forward move (into a sealed process) and a rollback resumed after its first page need none.
    expect(situation({ protocol: 2 }, { protocol: 2, status: "sealed" })).toMatchObject({ confirm: false });
    expect(
      situation(
        { protocol: 2, status: "frozen", successor: B },
        { protocol: 2, status: "sealed", import: { from: A, pages: 1, rollback: true } },
      ),
    ).toMatchObject({ confirm: false, freeze: false });
  });

  it("abandons an earlier move whose target never opened, and refuses one that completed", () => {
    const frozenForC = { status: "frozen" as const, successor: C };
    expect(situation(frozenForC, { status: "sealed" }, { status: "sealed" })).toEqual({
      action: "move",
      freeze: true,
      unfreezeFirst: true,
      confirm: false,
    });
    expect(
      thrown(() => situation(frozenForC, { status: "sealed" }, { status: "open", predecessor: A }), Error)
        .message,
    ).toMatch(
      new RegExp(`${A} was moved to ${C}, which is open and holds its data: the stack should name ${C}`),
    );
    // C opened with A's data and is moving it back into A (a rollback under way): A's data is older.
    expect(
      thrown(
        () => situation(frozenForC, { status: "sealed" }, { status: "frozen", successor: A, predecessor: A }),
        Error,
      ).message,
    ).toMatch(new RegExp(`${C} took ${A}'s data and is moving it back into ${A} \\(a rollback under way\\)`));
  });

  it.each([
    ["the wallet owns neither end", {}, { status: "sealed" as const }, ID("x"), /does not own process/],
    [
      "the old process was never opened",
      { status: "sealed" as const },
      { status: "sealed" as const },
      W,
      /is sealed: it was never opened/,
    ],
    ["the new process is open", {}, { status: "open" as const }, W, /already open and taking writes/],
    [
      "the new process is frozen for another",
      {},
      { status: "frozen" as const, successor: C },
      W,
      /frozen for a move to/,
    ],
    [
      "the new process imports from another",
      {},
      { status: "sealed" as const, import: { from: C, pages: 1 } },
      W,
      /importing from another process/,
    ],
  ])("refuses when %s", (_what, from, to, wallet, message) => {
    const e = thrown(() => situation(from, to, undefined, wallet), Error);
    expect(e.name).toBe("MoveRefused");
    expect(e.message).toMatch(message);
  });

  it("describes a state's size for previews and logs", () => {
    expect(describeSize({ entries: 1234, bytes: 600 * 1024 })).toBe(
      "1234 entries, 600.0 KiB, about 3 pages of 256.0 KiB",
    );
    expect(describeSize({ entries: 0, bytes: 0 }, 1024)).toBe("0 entries, 0.0 KiB, about 1 page of 1.0 KiB");
  });
});

describe("a rollback target's confirmation, as State-Info reports it", () => {
  const A = ID("a");
  const T = ID("t");
  const D = "d".repeat(64);
  const report = (patch: object = {}) => ({
    status: "frozen" as const,
    successor: T,
    digest: D,
    entries: 3,
    bytes: 300,
    ...patch,
  });
  it.each([
    ["nothing asked", null, "absent"],
    ["another process asked", { process: ID("x"), report: report() }, "absent"],
    ["asked, no answer yet", { process: A, report: null }, "pending"],
    ["answered while open", { process: A, report: report({ status: "open", successor: null }) }, "stale"],
    ["frozen for another process", { process: A, report: report({ successor: ID("x") }) }, "stale"],
    ["another state (changed since)", { process: A, report: report({ digest: "e".repeat(64) }) }, "stale"],
    ["frozen for the target with the digest moved", { process: A, report: report() }, "confirmed"],
  ] as const)("%s: %s", (_what, source, want) => {
    expect(confirmationOf({ source }, T, A, D)).toBe(want);
  });
});

describe("the transfer client's reads", () => {
  const P = ID("p");
  const OWNER = ID("o");
  const endpoints: LegacyEndpoints = {
    mu: "http://127.0.0.1:1",
    cu: "http://127.0.0.1:2",
    gateway: "http://127.0.0.1:3",
  };
  const reply = (action: string, body: object): AoResult => ({
    Messages: [{ Tags: [{ name: "Action", value: `${action}-Response` }], Data: JSON.stringify(body) }],
  });
  const page = { entries: [{ kind: "skill", name: "a" }], nextCursor: null, digest: EMPTY_DIGEST, total: 1 };

  /** A process of `protocol` whose State-Export answers only a dry-run claiming the owner when `ownerDryRun`. */
  function fakeProcess(protocol: number, ownerDryRun: boolean, refusal = "E_NOT_OWNER") {
    const calls: string[] = [];
    const answer = (action: string, owner: string | undefined, signed: boolean): AoResult => {
      if (action === "State-Info") return reply(action, { ok: true, stateTransfer: info({ protocol }) });
      if (action === "State-Export") {
        const allowed = protocol >= 2 || signed || (ownerDryRun && owner === OWNER);
        return reply(
          action,
          allowed ? { ok: true, ...page } : { ok: false, error: { code: refusal, message: "refused" } },
        );
      }
      throw new Error(`unexpected ${action}`);
    };
    let sent: string | undefined;
    const client: AoClient = {
      spawner: () => {
        throw new Error("no spawn here");
      },
      processExists: async () => true,
      async dryrun({ tags, owner }) {
        const action = tags[0]!.value;
        calls.push(`dryrun ${action}${owner ? " as owner" : ""}`);
        return answer(action, owner, false);
      },
      async message({ tags }) {
        sent = tags[0]!.value;
        calls.push(`message ${sent}`);
        return { id: "m".repeat(43) };
      },
      async result() {
        return answer(sent!, undefined, true);
      },
    };
    const retry = <T>(_s: string, _e: string, fn: (attempt: number) => Promise<T>) => fn(1);
    return { calls, client: transferClient({ client, retry }, endpoints, P, OWNER) };
  }

  it("version 2: every read is a dry-run that claims no owner", async () => {
    const { calls, client } = fakeProcess(2, false);
    await client.info();
    expect(await client.exportPage(null, 1024)).toEqual(page);
    expect(calls).toEqual(["dryrun State-Info", "dryrun State-Export"]);
  });

  it("version 1: the owner's dry-run where the network honours the claim (AO's legacy compute unit)", async () => {
    const { calls, client } = fakeProcess(1, true);
    await client.exportPage(null, 1024);
    expect(calls).toEqual(["dryrun State-Info", "dryrun State-Export as owner"]);
  });

  it("version 1 on a network that passes no Owner (HyperBEAM): refused once, then signed messages", async () => {
    const { calls, client } = fakeProcess(1, false);
    expect(await client.exportPage(null, 1024)).toEqual(page);
    expect(await client.exportPage("a/0", 1024)).toEqual(page);
    expect(calls).toEqual([
      "dryrun State-Info",
      "dryrun State-Export as owner",
      "message State-Export",
      "message State-Export",
    ]);
  });

  it("version 1: any other refusal of the owner's dry-run is the error, not a reason to send messages", async () => {
    const { calls, client } = fakeProcess(1, false, "E_INVALID_FIELD");
    const e = (await client.exportPage(null, 1024).catch((err: Error) => err)) as Error & { code?: string };
    expect(e).toMatchObject({ name: "TransferRefused", code: "E_INVALID_FIELD" });
    expect(calls).toEqual(["dryrun State-Info", "dryrun State-Export as owner"]);
  });
});

describe("waiting for a confirmation", () => {
  const P = ID("p");
  const A = ID("a");
  const D = "d".repeat(64);
  const endpoints: LegacyEndpoints = {
    mu: "http://127.0.0.1:1",
    cu: "http://127.0.0.1:2",
    gateway: "http://127.0.0.1:3",
  };

  /** A target whose State-Info reports the given sources in turn (the last one again); counts State-Confirm. */
  function target(sources: TransferInfo["source"][]) {
    let asked = 0;
    let n = 0;
    const reply = (action: string, body: object): AoResult => ({
      Messages: [{ Tags: [{ name: "Action", value: `${action}-Response` }], Data: JSON.stringify(body) }],
    });
    const stateInfo = () =>
      info({
        protocol: 2,
        status: "frozen",
        successor: A,
        source: sources[Math.min(n++, sources.length - 1)],
      });
    const client: AoClient = {
      spawner: () => {
        throw new Error("no spawn here");
      },
      processExists: async () => true,
      dryrun: async () => reply("State-Info", { ok: true, stateTransfer: stateInfo() }),
      async message() {
        asked++;
        return { id: "m".repeat(43) };
      },
      result: async () => reply("State-Confirm", { ok: true, stateTransfer: info({ protocol: 2 }) }),
    };
    // A retry helper that retries what the real one retries (NotYetError), at most 20 times.
    const retry = async <T>(_s: string, _e: string, fn: (attempt: number) => Promise<T>): Promise<T> => {
      for (let i = 1; ; i++) {
        try {
          return await fn(i);
        } catch (err) {
          if ((err as Error).name !== "NotYetError" || i >= 20) throw err;
        }
      }
    };
    return { asked: () => asked, client: transferClient({ client, retry }, endpoints, P, undefined) };
  }
  const report = (patch: object = {}) => ({
    status: "frozen" as const,
    successor: P,
    digest: D,
    entries: 1,
    bytes: 1,
    ...patch,
  });

  it("waits for the answer, and asks again only after one that does not confirm", async () => {
    const t = target([
      { process: A, report: null },
      { process: A, report: report({ status: "open", successor: null }) },
      { process: A, report: null },
      { process: A, report: report() },
    ]);
    expect((await t.client.awaitConfirmation(A, D)).source?.report?.status).toBe("frozen");
    expect(t.asked()).toBe(1);
  });

  it("stops asking after a few answers that never confirm, and says what is missing", async () => {
    const t = target([{ process: A, report: report({ digest: "e".repeat(64) }) }]);
    const e = await t.client.awaitConfirmation(A, D).catch((err: Error) => err);
    expect(t.asked()).toBe(CONFIRM_ASKS);
    expect((e as Error).message).toMatch(
      new RegExp(
        `an answer that does not confirm the move .*must report itself frozen for ${P} with digest ${D}`,
      ),
    );
  });
});

describe("settling a frozen process the stack names again", () => {
  const A = ID("a");
  const B = ID("b");
  const W = ID("w");
  const fake = (id: string, state: Partial<TransferInfo>, unfrozen: string[]): TransferClient =>
    ({
      processId: id,
      info: async () => info(state),
      unfreeze: async () => {
        unfrozen.push(id);
        return { already: false, info: info({ status: "open" }) };
      },
    }) as unknown as TransferClient;

  it.each([
    [
      "its successor never opened (an abandoned move): unfreezes it",
      { status: "sealed" as const },
      true,
      /./,
    ],
    [
      "its successor opened with its data",
      { status: "open" as const, predecessor: A },
      false,
      /open and holds its data/,
    ],
    [
      "its successor opened with its data and is moving it back (a rollback under way)",
      { status: "frozen" as const, successor: A, predecessor: A },
      false,
      /a rollback under way.*unfreezing .* would bring back its older data/,
    ],
  ])("%s", async (_what, successor, unfreezes, message) => {
    const unfrozen: string[] = [];
    const run = settleProcessWith({ log: () => {} })(
      fake(A, { status: "frozen", successor: B }, unfrozen),
      W,
      (id) => fake(id, successor, unfrozen),
    );
    if (unfreezes) {
      await run;
      expect(unfrozen).toEqual([A]);
    } else {
      expect(((await run.catch((e: Error) => e)) as Error).message).toMatch(message);
      expect(unfrozen).toEqual([]);
    }
  });
});

describe("a rollback into a version 2 process, step by step", () => {
  const A = ID("a"); // the process the stack names now: its state goes back
  const T = ID("t"); // the predecessor, frozen for A: it takes the state back
  const W = ID("w");
  const D = digestOf([{ kind: "skill", name: "x" }]).digest;

  it("asks the target first, freezes, exports, waits for the confirmation, then imports and opens", async () => {
    const calls: string[] = [];
    let fromState = info({ protocol: 2, status: "open", digest: D, entries: 1 });
    let toState = info({ protocol: 2, status: "frozen", successor: A });
    const from = {
      processId: A,
      info: async () => fromState,
      async freeze(successor: string) {
        calls.push(`freeze ${A} for ${successor}`);
        fromState = { ...fromState, status: "frozen", successor };
        return { already: false, info: fromState };
      },
      async exportPage() {
        calls.push(`export ${A}`);
        return { entries: [{ kind: "skill", name: "x" }], nextCursor: null, digest: D, total: 1 };
      },
    } as unknown as TransferClient;
    const to = {
      processId: T,
      info: async () => toState,
      async confirm(source: string) {
        calls.push(`confirm ${T} from ${source}`);
        return toState;
      },
      async awaitConfirmation(source: string, digest: string) {
        calls.push(`await ${T} from ${source} ${digest === D ? "with the exported digest" : digest}`);
        return toState;
      },
      async importPage(source: string, page: number) {
        calls.push(`import ${T} page ${page} from ${source}`);
        toState = { ...toState, status: "sealed", successor: null, digest: D, entries: 1 };
        return { duplicate: false, info: toState };
      },
      async open(digest: string) {
        calls.push(`open ${T} ${digest === D ? "with the exported digest" : digest}`);
        return { already: false, info: toState };
      },
    } as unknown as TransferClient;
    const report = await moveStateWith({
      log: () => {},
      now: () => new Date(0),
      backup: { read: () => undefined, write: () => "backup.json" },
    })({ from, to, wallet: W, clientFor: () => to });
    expect(report).toMatchObject({ from: A, to: T, digest: D, entries: 1, pages: 1 });
    expect(calls).toEqual([
      `confirm ${T} from ${A}`,
      `freeze ${A} for ${T}`,
      `export ${A}`,
      `await ${T} from ${A} with the exported digest`,
      `import ${T} page 1 from ${A}`,
      `open ${T} with the exported digest`,
    ]);
  });
});

/**
 * The move's pure parts: the canonical encoding and digest (STATE-TRANSFER.md), and what a move does
 * given what its two processes report (moveSituation). The move itself runs against the real registry
 * in stateMove.e2e.test.ts.
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { describeSize, moveSituation } from "../../providers/stateMove";
import { canonicalJson, digestOf, EMPTY_DIGEST, type TransferInfo } from "../../providers/stateTransfer";
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

  it("abandons an earlier move whose target never opened, and refuses one that completed", () => {
    const frozenForC = { status: "frozen" as const, successor: C };
    expect(situation(frozenForC, { status: "sealed" }, { status: "sealed" })).toEqual({
      action: "move",
      freeze: true,
      unfreezeFirst: true,
    });
    expect(
      thrown(() => situation(frozenForC, { status: "sealed" }, { status: "open", predecessor: A }), Error)
        .message,
    ).toMatch(
      new RegExp(`${A} was moved to ${C}, which is open and holds its data: the stack should name ${C}`),
    );
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

/**
 * Errors as the provider hands them to the dynamic-provider host: redacted and bounded in the bytes
 * they take in gRPC trailers, the head and tail of a long text kept. The same errors through the real
 * host and grpc-js: dynamicHost.e2e.test.ts.
 */
import { describe, expect, it } from "vitest";
import { boundText, hostError, MAX_MESSAGE_BYTES, MAX_REASON_BYTES } from "../../providers/hostError";
import { deployInitError, luaEvalError } from "../../providers/pipeline";
import { testWallet } from "../support/wallets";

/** What a text takes in the `grpc-message` trailer (grpc-js percent-encodes outside printable ASCII). */
const wire = (t: string) =>
  Array.from(t).reduce((n, ch) => {
    const c = ch.codePointAt(0)!;
    return n + (c >= 0x20 && c <= 0x7e && ch !== "%" ? 1 : 3 * Buffer.byteLength(ch));
  }, 0);

describe("boundText", () => {
  it("leaves a text that fits as it is", () => {
    const t = `${"a".repeat(100)}\nline two é`;
    expect(boundText(t, 1024)).toBe(t);
    expect(boundText("x".repeat(1024), 1024)).toBe("x".repeat(1024));
  });

  it.each([
    ["ASCII", "x"],
    ["two-byte UTF-8", "é"],
    ["four-byte UTF-8", "𝄞"],
    ["control characters", "\u0001"],
    ["percent signs", "%"],
  ])(
    "bounds a 100 KiB text of %s to the budget, keeping head and tail and saying how much is left out",
    (_k, ch) => {
      const text = `HEAD ${ch.repeat(100 * 1024)} TAIL`;
      const out = boundText(text, MAX_MESSAGE_BYTES);
      expect(wire(out)).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
      expect(wire(out)).toBeGreaterThan(MAX_MESSAGE_BYTES / 2);
      expect(out.startsWith("HEAD ")).toBe(true);
      expect(out.endsWith(" TAIL")).toBe(true);
      const omitted = Number(
        out.match(/\[\.\.\. (\d+) more characters of this error left out \.\.\.\]/)?.[1],
      );
      expect(omitted + Array.from(out).length).toBeGreaterThan(Array.from(text).length);
    },
  );

  it("never splits a surrogate pair", () => {
    const out = boundText("𝄞".repeat(10_000), 1000);
    expect(out).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
  });
});

describe("hostError", () => {
  const wallet = testWallet("aoprocess-deployer").jwk;

  it("bounds an init error's message and reasons and keeps its ID and properties", () => {
    const lua = `[string "main"]:1: ${"y".repeat(100 * 1024)}`;
    const init = deployInitError(
      "P".repeat(43),
      { processId: "P".repeat(43) },
      luaEvalError("P", { id: "M" }, lua),
    );
    const e = hostError(init, wallet) as Error & { id: string; properties: object; reasons: string[] };
    expect(wire(e.message)).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    expect(e.message).toContain('Eval of the code failed in process P (message M): [string "main"]:1: yyy');
    // The instruction to resume is the message's last line: the tail is kept.
    expect(e.message).toMatch(/run `pulumi up` again to resume/);
    expect(e.reasons).toHaveLength(1);
    expect(wire(e.reasons[0]!)).toBeLessThanOrEqual(MAX_REASON_BYTES);
    expect(e).toMatchObject({
      name: "DeployInitError",
      id: "P".repeat(43),
      properties: { processId: "P".repeat(43) },
    });
  });

  it("removes key material from message and reasons, and turns a thrown non-Error into an Error", () => {
    const leak = Object.assign(new Error(`bad key ${wallet.d}`), { reasons: [`also ${wallet.p}`] });
    const e = hostError(leak, wallet) as Error & { reasons: string[] };
    expect(e.message).toBe("bad key [redacted]");
    expect(e.reasons).toEqual(["also [redacted]"]);
    expect(hostError("plain", undefined).message).toBe("plain");
  });
});

import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { hasEnvWallet, readWallet, redact, walletAddress } from "../../providers/wallet";

// A small RSA key is enough to test parsing and redaction (Arweave uses 4096 bits; not needed here).
const jwk = crypto
  .generateKeyPairSync("rsa", { modulusLength: 1024 })
  .privateKey.export({ format: "jwk" }) as Record<string, string>;
const json = JSON.stringify(jwk);
const otherJwk = crypto
  .generateKeyPairSync("rsa", { modulusLength: 1024 })
  .privateKey.export({ format: "jwk" }) as Record<string, string>;
const otherJson = JSON.stringify(otherJwk);
/** The message `fn` throws ("" when it does not). */
const thrown = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  return "";
};
/** Every private component of both test wallets, and their moduli: none may appear in a message. */
const keyMaterial = [jwk, otherJwk].flatMap((k) =>
  ["d", "p", "q", "dp", "dq", "qi", "n"].map((f) => k[f]!.slice(0, 16)),
);

describe("wallet", () => {
  it("reads the JWK from AO_WALLET_JWK, or from the file AO_WALLET_FILE names", () => {
    expect(readWallet({ AO_WALLET_JWK: json }).n).toBe(jwk.n);
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "wallet-")), "w.json");
    fs.writeFileSync(file, json);
    expect(readWallet({ AO_WALLET_FILE: file }).d).toBe(jwk.d);
  });

  describe("ARWEAVE_WALLET_JWK, the name the design's deploy script reads", () => {
    it("is accepted wherever AO_WALLET_JWK is", () => {
      expect(readWallet({ ARWEAVE_WALLET_JWK: json }).n).toBe(jwk.n);
      expect(readWallet({ ARWEAVE_WALLET_JWK: json }, { key: "aoRegistry:wallet" }).d).toBe(jwk.d);
      expect(hasEnvWallet({ ARWEAVE_WALLET_JWK: json })).toBe(true);
    });

    it("ranks with AO_WALLET_JWK: under the stack config secret, over AO_WALLET_FILE", () => {
      const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "wallet-")), "w.json");
      fs.writeFileSync(file, otherJson);
      expect(readWallet({ ARWEAVE_WALLET_JWK: json, AO_WALLET_FILE: file }).n).toBe(jwk.n);
      expect(readWallet({ ARWEAVE_WALLET_JWK: otherJson }, { key: "aoRegistry:wallet", value: json }).n).toBe(
        jwk.n,
      );
      expect(readWallet({ ARWEAVE_WALLET_JWK: "", AO_WALLET_FILE: file }).n).toBe(otherJwk.n);
    });

    it("may be set beside AO_WALLET_JWK to the same wallet", () => {
      const reformatted = JSON.stringify(jwk, null, 2);
      expect(readWallet({ AO_WALLET_JWK: json, ARWEAVE_WALLET_JWK: reformatted }).n).toBe(jwk.n);
    });

    it("set beside AO_WALLET_JWK to another wallet is a one-line error naming both, without key material", () => {
      const message = thrown(() => readWallet({ AO_WALLET_JWK: json, ARWEAVE_WALLET_JWK: otherJson }));
      expect(message).toBe(
        `AO_WALLET_JWK (address ${walletAddress({ n: jwk.n! })}) and ARWEAVE_WALLET_JWK (address ` +
          `${walletAddress({ n: otherJwk.n! })}) hold different wallets: unset one of them, or set both to the same wallet JSON.`,
      );
      expect(message).not.toContain("\n");
      for (const material of keyMaterial) expect(message).not.toContain(material);
    });

    it("is checked like AO_WALLET_JWK: a broken one is named, and echoes no key material", () => {
      const message = thrown(() =>
        readWallet({ AO_WALLET_JWK: json, ARWEAVE_WALLET_JWK: `${json.slice(0, -1)},}` }),
      );
      expect(message).toBe(
        "ARWEAVE_WALLET_JWK is not valid JSON: it must hold an Arweave wallet (JWK) as JSON.",
      );
      for (const material of keyMaterial) expect(message).not.toContain(material);
    });
  });

  it("knows when the environment names a wallet, so that no dev wallet is put in its place", () => {
    expect(hasEnvWallet({})).toBe(false);
    expect(hasEnvWallet({ AO_WALLET_JWK: "", ARWEAVE_WALLET_JWK: "", AO_WALLET_FILE: "" })).toBe(false);
    for (const name of ["AO_WALLET_JWK", "ARWEAVE_WALLET_JWK", "AO_WALLET_FILE"]) {
      expect(hasEnvWallet({ [name]: "x" }), name).toBe(true);
    }
  });

  it("says where to put a wallet when there is none: the stack config secret, or the environment", () => {
    expect(() => readWallet({}, { key: "aoRegistry:wallet" })).toThrowError(
      /No Arweave wallet: set the stack config secret aoRegistry:wallet \(pulumi config set --secret aoRegistry:wallet .*\), or set AO_WALLET_JWK \(or ARWEAVE_WALLET_JWK\) .* or AO_WALLET_FILE/,
    );
    expect(() => readWallet({})).toThrowError(/<project>:wallet.*AO_WALLET_JWK.*AO_WALLET_FILE/);
  });

  it("prefers the stack config secret to the environment, and falls back to the environment without it", () => {
    const other = crypto
      .generateKeyPairSync("rsa", { modulusLength: 1024 })
      .privateKey.export({ format: "jwk" }) as Record<string, string>;
    const env = { AO_WALLET_JWK: JSON.stringify(other) };
    expect(readWallet(env, { key: "aoRegistry:wallet", value: json }).n).toBe(jwk.n);
    expect(readWallet(env, { key: "aoRegistry:wallet", value: undefined }).n).toBe(other.n);
    expect(readWallet(env, { key: "aoRegistry:wallet", value: "" }).n).toBe(other.n);
  });

  it("names the config key, and echoes no key material, when the config secret is not a wallet", () => {
    for (const value of [`${json.slice(0, -1)},}`, JSON.stringify({ ...jwk, kty: "EC" })]) {
      let message = "";
      try {
        readWallet({}, { key: "aoRegistry:wallet", value });
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).toMatch(
        /^The stack config secret aoRegistry:wallet is not (valid JSON|an Arweave wallet)/,
      );
      for (const k of ["d", "p", "q"]) expect(message).not.toContain(jwk[k]!.slice(0, 16));
    }
  });

  it("never echoes key material when the wallet is malformed", () => {
    const broken = `${json.slice(0, -1)},}`;
    let message = "";
    try {
      readWallet({ AO_WALLET_JWK: broken });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/AO_WALLET_JWK is not valid JSON/);
    expect(message).not.toContain(jwk.d!.slice(0, 16));
    expect(() => readWallet({ AO_WALLET_JWK: JSON.stringify({ ...jwk, kty: "EC" }) })).toThrowError(
      /not an Arweave wallet/,
    );
  });

  it("derives the address as base64url(sha256(n))", () => {
    const expected = crypto.createHash("sha256").update(Buffer.from(jwk.n!, "base64url")).digest("base64url");
    expect(walletAddress({ n: jwk.n! })).toBe(expected);
    expect(expected).toHaveLength(43);
  });

  it("redacts every key component from an error text", () => {
    const text = `failed: ${json} and d=${jwk.d}`;
    const out = redact(text, jwk);
    for (const k of ["d", "p", "q", "dp", "dq", "qi"]) expect(out).not.toContain(jwk[k]);
  });
});

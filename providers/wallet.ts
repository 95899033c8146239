/**
 * The Arweave wallet (JWK), read at call time inside create/update, never a resource input and never
 * captured by the provider closure (Pulumi stores the serialized provider code in the state).
 *
 * Sources, first found wins: `AO_WALLET_JWK` (the JSON), `AO_WALLET_FILE` (a path to it).
 * Errors name the variable and never include key material (JSON.parse messages echo input: not used).
 */
import { namedError } from "./errors";

export interface Jwk {
  kty: string;
  n: string;
  e: string;
  d?: string;
  p?: string;
  q?: string;
  dp?: string;
  dq?: string;
  qi?: string;
}

export const walletError = (message: string) => namedError("WalletError", message);

function parseJwk(text: string, source: string): Jwk {
  let jwk: unknown;
  try {
    jwk = JSON.parse(text);
  } catch {
    throw walletError(`${source} is not valid JSON: it must hold an Arweave wallet (JWK) as JSON.`);
  }
  const j = jwk as Partial<Jwk>;
  if (
    typeof j !== "object" ||
    j === null ||
    j.kty !== "RSA" ||
    typeof j.n !== "string" ||
    typeof j.d !== "string"
  ) {
    throw walletError(`${source} is not an Arweave wallet: expected an RSA JWK with "n" and "d".`);
  }
  return j as Jwk;
}

export function readWallet(env: Record<string, string | undefined> = process.env): Jwk {
  if (env.AO_WALLET_JWK) return parseJwk(env.AO_WALLET_JWK, "AO_WALLET_JWK");
  const file = env.AO_WALLET_FILE;
  if (file) {
    const fs = require("node:fs") as typeof import("node:fs");
    let text: string;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch (e) {
      throw walletError(
        `AO_WALLET_FILE ${JSON.stringify(file)} cannot be read (${(e as NodeJS.ErrnoException).code ?? "error"}).`,
      );
    }
    return parseJwk(text, `AO_WALLET_FILE ${JSON.stringify(file)}`);
  }
  throw walletError(
    "No Arweave wallet: set AO_WALLET_JWK to the wallet JSON or AO_WALLET_FILE to its path (preview needs none).",
  );
}

/** The wallet's Arweave address: base64url(sha256(modulus)). */
export function walletAddress(jwk: Pick<Jwk, "n">): string {
  const { createHash } = require("node:crypto") as typeof import("node:crypto");
  return createHash("sha256").update(Buffer.from(jwk.n, "base64url")).digest("base64url");
}

/** Removes every key component of the wallet from a message (defence in depth for error texts). */
export function redact(message: string, jwk?: Partial<Jwk>): string {
  let out = message;
  if (jwk) {
    for (const k of ["d", "p", "q", "dp", "dq", "qi", "n"] as const) {
      const v = jwk[k];
      if (typeof v === "string" && v.length >= 16) out = out.split(v).join("[redacted]");
    }
  }
  // Anything that looks like a serialized private JWK.
  return out.replace(/"d"\s*:\s*"[A-Za-z0-9_-]{16,}"/g, '"d":"[redacted]"');
}

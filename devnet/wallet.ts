import { createHash, generateKeyPairSync } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/** An Arweave wallet: an RSA key as a JSON Web Key (private fields present). */
export interface Jwk {
  kty: "RSA";
  n: string;
  e: string;
  d?: string;
  p?: string;
  q?: string;
  dp?: string;
  dq?: string;
  qi?: string;
}

/** RSA-4096, e=65537: the only key kind Arweave's signature type 1 accepts. Takes 1-2 s. */
export function generateWallet(): Jwk {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 4096, publicExponent: 65537 });
  return privateKey.export({ format: "jwk" }) as Jwk;
}

/** An Arweave address is the base64url sha256 of the owner's modulus. */
export function addressOf(ownerModulus: string): string {
  return createHash("sha256").update(Buffer.from(ownerModulus, "base64url")).digest("base64url");
}

/** Loads the wallet at `file`, creating it (mode 0600) when missing. */
export function loadOrCreateWallet(file: string): Jwk {
  if (existsSync(file)) return JSON.parse(readFileSync(file, "utf8")) as Jwk;
  mkdirSync(dirname(file), { recursive: true });
  const jwk = generateWallet();
  writeFileSync(file, JSON.stringify(jwk), { mode: 0o600 });
  return jwk;
}

import { generateKeyPairSync } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Jwk } from "../providers/wallet";

/** RSA-4096, e=65537: the only key kind Arweave's signature type 1 accepts. Takes 1-2 s. */
export function generateWallet(): Jwk {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 4096, publicExponent: 65537 });
  return privateKey.export({ format: "jwk" }) as Jwk;
}

/** Loads the wallet at `file`, creating it (mode 0600) when missing. */
export function loadOrCreateWallet(file: string): Jwk {
  if (existsSync(file)) return JSON.parse(readFileSync(file, "utf8")) as Jwk;
  mkdirSync(dirname(file), { recursive: true });
  const jwk = generateWallet();
  writeFileSync(file, JSON.stringify(jwk), { mode: 0o600 });
  return jwk;
}

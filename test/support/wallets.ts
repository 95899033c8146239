import { existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createWallet } from "../../devnet/wallet";
import { addressOf, type Jwk } from "../../providers/wallet";

// RSA-4096 generation costs 1-2 s: test wallets are made once per machine and reused (never committed).
const DIR = join(tmpdir(), "ao-registry-test-wallets");

/** A named test wallet, the same across test files and runs. */
export function testWallet(name: string): { jwk: Jwk; address: string } {
  const file = join(DIR, `${name}.json`);
  if (!existsSync(file)) createWallet(file);
  const jwk = JSON.parse(readFileSync(file, "utf8")) as Jwk;
  return { jwk, address: addressOf(jwk.n) };
}

/**
 * Makes `jwk` the wallet a provider called in this process reads (AO_WALLET_JWK; AO_WALLET_FILE
 * cleared); returns the function that puts the environment back.
 */
export function walletInEnv(jwk: Jwk): () => void {
  const saved = { jwk: process.env.AO_WALLET_JWK, file: process.env.AO_WALLET_FILE };
  process.env.AO_WALLET_JWK = JSON.stringify(jwk);
  delete process.env.AO_WALLET_FILE;
  return () => {
    if (saved.jwk === undefined) delete process.env.AO_WALLET_JWK;
    else process.env.AO_WALLET_JWK = saved.jwk;
    if (saved.file !== undefined) process.env.AO_WALLET_FILE = saved.file;
  };
}

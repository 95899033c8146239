import { existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createWallet } from "../../devnet/wallet";
import { addressOf, type Jwk, WALLET_ENV_VARIABLES } from "../../providers/wallet";

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
 * Every variable a provider reads the wallet from (providers/wallet.ts), unset: an environment for a
 * test that must not see a wallet of the user's shell (AO_WALLET_JWK, ARWEAVE_WALLET_JWK, AO_WALLET_FILE).
 */
export const NO_ENV_WALLET: Record<string, undefined> = Object.fromEntries(
  WALLET_ENV_VARIABLES.map((name) => [name, undefined]),
);
/** The same as empty strings (unset, for the provider), for a child process's environment. */
export const EMPTY_ENV_WALLET: Record<string, string> = Object.fromEntries(
  WALLET_ENV_VARIABLES.map((name) => [name, ""]),
);

/**
 * Makes `jwk` the wallet a provider called in this process reads (AO_WALLET_JWK; the other wallet
 * variables cleared), or, undefined, leaves it none; returns the function that puts the environment back.
 */
export function walletInEnv(jwk: Jwk | undefined): () => void {
  const saved = WALLET_ENV_VARIABLES.map((name) => [name, process.env[name]] as const);
  for (const name of WALLET_ENV_VARIABLES) delete process.env[name];
  if (jwk) process.env.AO_WALLET_JWK = JSON.stringify(jwk);
  return () => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}

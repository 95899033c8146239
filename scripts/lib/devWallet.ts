/**
 * The wallets `npm run deploy:dev` hands the provider: the dev wallet it creates for the local network,
 * or the file `--wallet` names. Both are read and checked before anything runs, so that a damaged file is
 * one line naming the file and the fix, not a JSON parser's position after the whole plan.
 */
import { existsSync, readFileSync } from "node:fs";
import { createWallet } from "../../devnet/wallet";
import { addressOf, parseJwk } from "../../providers/wallet";
import { shownDir } from "./localNetwork";

export class WalletFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WalletFileError";
  }
}

/** Reads and checks a wallet file; `source` names it and `fix` says what to do, in the error. */
export function readWalletFile(file: string, source: string, fix: string): { address: string } {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new WalletFileError(
      `${source} cannot be read (${(e as NodeJS.ErrnoException).code ?? "error"}): ${fix}`,
    );
  }
  try {
    return { address: addressOf(parseJwk(text, source).n) };
  } catch (e) {
    // parseJwk's message names the source and never the text; end it with this caller's fix.
    throw new WalletFileError(`${(e as Error).message.replace(/\.$/, "")}; ${fix}`);
  }
}

/** `--wallet F`, checked before the deploy starts. */
export function checkWalletFlag(file: string): { address: string } {
  return readWalletFile(
    file,
    `--wallet ${file}`,
    "pass the path of an Arweave wallet JSON (JWK), or leave out --wallet to use the dev wallet",
  );
}

/** Creates the dev wallet when missing (mode 0600, written atomically); returns its address. */
export function ensureDevWallet(
  file: string,
  stateDir: string,
  log: (line: string) => void = (l) => console.error(l),
): string {
  if (!existsSync(file)) {
    createWallet(file);
    log(`created the dev wallet ${file} (never commit it; it is ignored by git)`);
  }
  return readWalletFile(
    file,
    `the dev wallet ${shownDir(file)}`,
    `delete it and run again to create a new one; the dev stack's processes belong to the old one, so delete its state too (${shownDir(stateDir)}: the dev stack is disposable)`,
  ).address;
}

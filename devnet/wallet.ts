import { generateKeyPairSync } from "node:crypto";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { writeFileDurably } from "../providers/durableFile";
import type { Jwk } from "../providers/wallet";

/** RSA-4096, e=65537: the only key kind Arweave's signature type 1 accepts. Takes 1-2 s. */
export function generateWallet(): Jwk {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 4096, publicExponent: 65537 });
  return privateKey.export({ format: "jwk" }) as Jwk;
}

const PRIVATE_FIELDS = ["n", "e", "d", "p", "q", "dp", "dq", "qi"] as const;

/**
 * The wallet at `file`, or undefined when there is none. A file that is not an RSA wallet throws an
 * error naming the file and never its content (it is a private key).
 */
export function readWallet(file: string): Jwk | undefined {
  if (!existsSync(file)) return undefined;
  let jwk: Partial<Record<string, unknown>>;
  try {
    jwk = JSON.parse(readFileSync(file, "utf8")) as Partial<Record<string, unknown>>;
  } catch {
    throw new Error(`${file} is not valid JSON. ${WALLET_RECOVERY}`);
  }
  const missing = PRIVATE_FIELDS.filter((f) => typeof jwk?.[f] !== "string" || jwk[f] === "");
  if (jwk?.kty !== "RSA" || missing.length > 0)
    throw new Error(
      `${file} is not an RSA wallet (missing ${missing.join(", ") || "kty RSA"}). ${WALLET_RECOVERY}`,
    );
  return jwk as unknown as Jwk;
}

const WALLET_RECOVERY =
  "It holds the network's key, which signs cranked messages and gives the scheduler its address: " +
  "restore it from a backup. Nothing was changed.";

/** Creates a wallet at `file` (mode 0600), durably: a crash leaves no half-written key. */
export function createWallet(file: string): Jwk {
  mkdirSync(dirname(file), { recursive: true });
  const jwk = generateWallet();
  writeFileDurably(file, JSON.stringify(jwk), 0o600);
  return jwk;
}

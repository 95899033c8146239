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
 * The wallet at `file`, or undefined when there is none: the one function that loads a key the network
 * holds. A file that is not an RSA wallet, or whose parts do not make one key (`rsaKeyProblem`), throws an
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
  const problem = rsaKeyProblem(jwk as unknown as Required<Jwk>);
  if (problem) throw new Error(`${file} is damaged: ${problem}. ${WALLET_RECOVERY}`);
  return jwk as unknown as Jwk;
}

const big = (b64url: string) => {
  const hex = Buffer.from(b64url, "base64url").toString("hex");
  return hex === "" ? 0n : BigInt(`0x${hex}`);
};

/**
 * Why the parts of an RSA private key (a JWK) do not make one Arweave key, or undefined when they do: a
 * byte changed anywhere in it breaks one of these equalities, which signing does not check (it uses the
 * CRT parts alone, so a damaged `d` or `n` signs without error). Names the parts, never their values.
 * Pure.
 */
export function rsaKeyProblem(jwk: Required<Pick<Jwk, (typeof PRIVATE_FIELDS)[number]>>): string | undefined {
  const [n, e, d, p, q, dp, dq, qi] = PRIVATE_FIELDS.map((f) => big(jwk[f]));
  if (Buffer.from(jwk.n, "base64url").length !== 512)
    return "its modulus n is not 4096 bits (Arweave keys are RSA-4096)";
  if (e !== 65537n) return "its public exponent e is not 65537";
  if (p! <= 1n || q! <= 1n) return "its factors p and q are not both above 1";
  if (p! * q! !== n) return "its parts do not agree: n is not p·q";
  if ((e * d!) % (p! - 1n) !== 1n || (e * d!) % (q! - 1n) !== 1n)
    return "its parts do not agree: e·d is not 1 modulo p−1 and q−1";
  if (dp !== d! % (p! - 1n) || dq !== d! % (q! - 1n))
    return "its parts do not agree: dp and dq are not d modulo p−1 and q−1";
  if ((q! * qi!) % p! !== 1n) return "its parts do not agree: qi is not the inverse of q modulo p";
  return undefined;
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

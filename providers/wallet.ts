/**
 * The Arweave wallet (JWK), read at call time inside create/update, never a resource input and never
 * captured by the provider closure (Pulumi stores the serialized provider code in the state).
 *
 * Sources, first found wins:
 * 1. the stack config secret `<project>:wallet` (`aoRegistry:wallet`), the wallet JSON, set with
 *    `pulumi config set --secret aoRegistry:wallet "$(cat wallet.json)"`. The engine hands the whole
 *    stack config, namespaces kept and secrets decrypted, to the dynamic-provider host's Configure;
 *    the host passes it to `Provider.configure({ config })` when it loads the provider (aoProcess.ts);
 * 2. `AO_WALLET_JWK` or `ARWEAVE_WALLET_JWK` (the JSON) in the environment of `pulumi up`. The second
 *    is the name the deploy script of the design this project grew from reads, so a team moving from it
 *    keeps its secret. Either may be set; both set must hold the same wallet, else it is an error naming
 *    both (a wallet chosen silently over the other would sign as someone the user did not mean);
 * 3. `AO_WALLET_FILE` (a path to it).
 * An empty variable counts as unset. Errors name the source and never include key material
 * (JSON.parse messages echo input: not used; addresses are public).
 */
import { namedError } from "./errors";

/** An Arweave wallet: an RSA key as a JSON Web Key (private fields present in a wallet that signs). */
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

/** The stack config key, in the project's namespace: `aoRegistry:wallet`. */
export const WALLET_CONFIG_KEY = "wallet";

/** The wallet as stack config gave it (`value` undefined when unset), and the full key, for messages. */
export interface ConfigWallet {
  key: string;
  value?: string;
}

/** The wallet JSON `text` from `source` (named in errors, which never echo the text), checked. */
export function parseJwk(text: string, source: string): Jwk {
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

/** The environment variables that hold the wallet JSON, of equal rank (see above). */
export const WALLET_JSON_VARIABLES = ["AO_WALLET_JWK", "ARWEAVE_WALLET_JWK"] as const;

/** Every environment variable the wallet is read from. */
export const WALLET_ENV_VARIABLES = [...WALLET_JSON_VARIABLES, "AO_WALLET_FILE"] as const;

/** True when the environment names a wallet (JSON or file): then no other wallet should be put in its place. */
export const hasEnvWallet = (env: Record<string, string | undefined>): boolean =>
  WALLET_ENV_VARIABLES.some((name) => Boolean(env[name]));

/** The wallet JSON of AO_WALLET_JWK / ARWEAVE_WALLET_JWK, or undefined when neither is set. */
function envJsonWallet(env: Record<string, string | undefined>): Jwk | undefined {
  const found = WALLET_JSON_VARIABLES.flatMap((name) => {
    const text = env[name];
    return text ? [{ name, jwk: parseJwk(text, name) }] : [];
  });
  const [first, second] = found;
  // A wallet is its public key (its address); the private fields of one key may be written differently.
  if (first && second && first.jwk.n !== second.jwk.n) {
    throw walletError(
      `${first.name} (address ${walletAddress(first.jwk)}) and ${second.name} (address ${walletAddress(second.jwk)}) ` +
        "hold different wallets: unset one of them, or set both to the same wallet JSON.",
    );
  }
  return first?.jwk;
}

export function readWallet(
  env: Record<string, string | undefined> = process.env,
  config?: ConfigWallet,
): Jwk {
  const key = config?.key ?? `<project>:${WALLET_CONFIG_KEY}`;
  if (config?.value) return parseJwk(config.value, `The stack config secret ${key}`);
  const json = envJsonWallet(env);
  if (json) return json;
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
    `No Arweave wallet: set the stack config secret ${key} ` +
      `(pulumi config set --secret ${key} "$(cat wallet.json)"), ` +
      "or set AO_WALLET_JWK (or ARWEAVE_WALLET_JWK) to the wallet JSON or AO_WALLET_FILE to its path in the environment of `pulumi up`. " +
      "Nothing was sent to AO. (preview needs no wallet.)",
  );
}

/** An Arweave address: base64url(sha256(the owner's RSA modulus)), as a data item's `owner` carries it. */
export function addressOf(ownerModulus: string): string {
  const { createHash } = require("node:crypto") as typeof import("node:crypto");
  return createHash("sha256").update(Buffer.from(ownerModulus, "base64url")).digest("base64url");
}

/** The wallet's Arweave address. */
export const walletAddress = (jwk: Pick<Jwk, "n">): string => addressOf(jwk.n);

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

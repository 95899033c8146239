/**
 * The keys the provider signs with, and how:
 * - `signerFor`: one aoconnect signer per wallet for the life of the provider's process (a deploy):
 *   aoconnect throws CRYPTO_RATE_LIMIT_EXCEEDED at the 101st signer made for one key within a minute,
 *   and a move sends a message per page.
 * - `readKey`: on AO mainnet every call is a signed item, reads included. Reads that need no owner
 *   (refresh, drift, the validation dry-run, `State-Info`) sign with a key made for this process and
 *   kept in memory only: never stored, never logged, gone when the deploy ends. So a preview or a
 *   refresh needs no wallet.
 * - `onceSigner`: signs one data item, then hands back the same signed bytes for every later request.
 *   A spawn's ID is the ID of its signed item, and RSA-PSS signatures are salted (a new signing, a new
 *   ID, a second process): a retried spawn must re-send the first bytes. aoconnect (both modes) accepts
 *   a signer that answers `{ id, raw }` and sends `raw` as it is.
 */
import type { AoSigner } from "./aoconnect";
import { type Jwk, walletAddress } from "./wallet";

const signers = new Map<string, AoSigner>();

export function signerFor(wallet: Jwk, create: (jwk: Jwk) => AoSigner): AoSigner {
  const address = walletAddress(wallet);
  let signer = signers.get(address);
  if (!signer) {
    signer = create(wallet);
    signers.set(address, signer);
  }
  return signer;
}

let runKey: Jwk | undefined;

/** This process's read-only key (RSA 4096, as ANS-104's Arweave signature type requires). */
export function readKey(): Jwk {
  if (!runKey) {
    const { generateKeyPairSync } = require("node:crypto") as typeof import("node:crypto");
    const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 4096, publicExponent: 65537 });
    runKey = privateKey.export({ format: "jwk" }) as unknown as Jwk;
  }
  return runKey;
}

interface PassthroughFields {
  data: string | Uint8Array;
  tags?: { name: string; value: string }[];
  target?: string;
  anchor?: string;
}

export interface OnceSigner {
  signer: AoSigner;
  /** The ID of the item once it is signed (before it is sent), else undefined. */
  signedId(): string | undefined;
}

export function onceSigner(wallet: Jwk): OnceSigner {
  let signed: { id: string; raw: Buffer } | undefined;
  const signer: AoSigner = async (create, kind) => {
    if (kind !== "ans104") throw new Error(`a spawn is signed as ANS-104, not ${kind}`);
    // aoconnect requires `create` to be called; `passthrough` answers the item's fields unsigned.
    const fields = (await create({ passthrough: true })) as PassthroughFields;
    if (!signed) {
      const { ArweaveSigner, createData } =
        require("@dha-team/arbundles") as typeof import("@dha-team/arbundles");
      const key = new ArweaveSigner(wallet as never);
      const item = createData(fields.data, key, {
        tags: fields.tags ?? [],
        ...(fields.target ? { target: fields.target } : {}),
        ...(fields.anchor ? { anchor: fields.anchor } : {}),
      });
      await item.sign(key);
      signed = { id: item.id, raw: item.getRaw() };
    }
    return signed;
  };
  return { signer, signedId: () => signed?.id };
}

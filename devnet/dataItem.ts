import { ArweaveSigner, createData, DataItem } from "@dha-team/arbundles";
import { addressOf, type Jwk } from "../providers/wallet";

export interface Tag {
  name: string;
  value: string;
}

/** The fields of a verified ANS-104 data item, as the units store and serve them. */
export interface Item {
  id: string;
  /** Address of the signer. */
  owner: string;
  /** The signer's public key (RSA modulus, base64url). */
  ownerKey: string;
  signature: string;
  target: string;
  anchor: string;
  tags: Tag[];
  /** UTF-8 text of the data: what aos sees as `msg.Data`. */
  data: string;
}

/** A request the messenger refuses; `status` is the HTTP status to answer with. */
export class RejectedItemError extends Error {
  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const ARWEAVE_SIGNATURE_TYPE = 1;
/** Signature type (2) + RSA-4096 signature (512) + owner (512) + target and anchor flags (2). */
const MIN_ITEM_BYTES = 2 + 512 + 512 + 2;
/** arbundles' `verify` refuses more tag bytes than this. */
const MAX_TAG_BYTES = 4096;

const malformed = (problem: string) =>
  new RejectedItemError(`malformed data item: ${problem}; send the raw bytes of a signed ANS-104 item`);

/** The fields of an item whose signature type is Arweave's, or the layout problem that stops reading them. */
function readFields(raw: Buffer): Item {
  // Layout after signature and owner: target flag (+32 bytes), anchor flag (+32 bytes), tag counts, tags, data.
  const targetAt = 2 + 512 + 512;
  const anchorAt = targetAt + (raw[targetAt] === 1 ? 33 : 1);
  const tagsStart = anchorAt + (raw[anchorAt] === 1 ? 33 : 1);
  for (const [name, at] of [
    ["target", targetAt],
    ["anchor", anchorAt],
  ] as const) {
    if (at >= raw.length) throw malformed(`${raw.length} bytes end before its ${name} flag`);
    if (raw[at] !== 0 && raw[at] !== 1)
      throw malformed(`its ${name} flag (byte ${at}) is ${raw[at]}, not 0 or 1`);
  }
  const item = new DataItem(raw);
  if (tagsStart + 16 > raw.length) throw malformed(`${raw.length} bytes end before the tag counts`);
  const count = raw.readBigUInt64LE(tagsStart);
  const bytes = raw.readBigUInt64LE(tagsStart + 8);
  if (bytes > BigInt(MAX_TAG_BYTES))
    throw malformed(`${bytes} bytes of tags is over the ${MAX_TAG_BYTES}-byte limit`);
  if (tagsStart + 16 + Number(bytes) > raw.length)
    throw malformed(`its ${bytes} bytes of tags run past its end`);
  let tags: Tag[];
  try {
    tags = item.tags.map(({ name, value }) => ({ name, value }));
  } catch (err) {
    throw malformed(`its tags do not decode (${(err as Error).message})`);
  }
  if (BigInt(tags.length) !== count) throw malformed(`it declares ${count} tags but holds ${tags.length}`);
  return {
    id: item.id,
    owner: addressOf(item.owner),
    ownerKey: item.owner,
    signature: item.signature,
    target: item.target,
    anchor: item.anchor,
    tags,
    data: item.rawData.toString("utf8"),
  };
}

/** Parses and verifies a raw signed data item; throws RejectedItemError naming what is wrong. */
export async function verifyItem(raw: Buffer): Promise<Item> {
  if (raw.length < MIN_ITEM_BYTES) {
    throw malformed(`${raw.length} bytes is shorter than any signed ANS-104 item`);
  }
  // Read here rather than through arbundles, whose getter throws a plain Error for an unknown type.
  const signatureType = raw.readUInt16LE(0);
  if (signatureType !== ARWEAVE_SIGNATURE_TYPE) {
    throw new RejectedItemError(
      `unsupported signature type ${signatureType}: this network accepts Arweave (RSA-PSS, type 1) signatures`,
    );
  }
  const fields = readFields(raw);
  if (raw.subarray(2, 2 + 512).every((b) => b === 0)) {
    throw new RejectedItemError(
      "unsigned data item: the signature is empty; sign the item with the sender's wallet",
    );
  }
  let valid = false;
  try {
    valid = await DataItem.verify(raw);
  } catch {
    valid = false;
  }
  if (!valid) {
    throw new RejectedItemError(
      "invalid signature: the data item was altered after signing or signed with another key; sign it again",
    );
  }
  return fields;
}

export interface ItemDraft {
  data: string;
  tags: Tag[];
  target?: string;
  anchor?: string;
}

/** Signs a new data item with `jwk`, as a unit signs what it cranks out of an outbox. */
export async function signItem(jwk: Jwk, draft: ItemDraft): Promise<{ item: Item; raw: Buffer }> {
  const signer = new ArweaveSigner(jwk as unknown as ConstructorParameters<typeof ArweaveSigner>[0]);
  const di = createData(draft.data, signer, {
    tags: draft.tags,
    ...(draft.target ? { target: draft.target } : {}),
    ...(draft.anchor ? { anchor: draft.anchor.padEnd(32, "0").slice(0, 32) } : {}),
  });
  await di.sign(signer);
  return { item: await verifyItem(di.getRaw()), raw: di.getRaw() };
}

export function tagValue(tags: readonly Tag[], name: string): string | undefined {
  return tags.find((t) => t.name === name)?.value;
}

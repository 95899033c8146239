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

/** Parses and verifies a raw signed data item; throws RejectedItemError naming what is wrong. */
export async function verifyItem(raw: Buffer): Promise<Item> {
  if (raw.length < 2 + 512 + 512 + 2) {
    throw new RejectedItemError(
      `malformed data item: ${raw.length} bytes is shorter than any signed ANS-104 item; send the raw bytes of a signed item`,
    );
  }
  let item: DataItem;
  try {
    item = new DataItem(raw);
    if (!item.isValid()) throw new Error("invalid layout");
  } catch (err) {
    throw new RejectedItemError(
      `malformed data item: ${(err as Error).message}; send the raw bytes of a signed ANS-104 item`,
    );
  }
  if (item.signatureType !== ARWEAVE_SIGNATURE_TYPE) {
    throw new RejectedItemError(
      `unsupported signature type ${item.signatureType}: this network accepts Arweave (RSA-PSS, type 1) signatures`,
    );
  }
  if (item.rawSignature.every((b) => b === 0)) {
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
  return {
    id: item.id,
    owner: addressOf(item.owner),
    ownerKey: item.owner,
    signature: item.signature,
    target: item.target,
    anchor: item.anchor,
    tags: item.tags.map(({ name, value }) => ({ name, value })),
    data: item.rawData.toString("utf8"),
  };
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

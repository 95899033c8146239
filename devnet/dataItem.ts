import { isUtf8 } from "node:buffer";
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
  /**
   * The data as text: its bytes decoded as UTF-8, any that are not replaced with U+FFFD (what AO's legacy
   * scheduler serves for a message, `String::from_utf8_lossy`: see `dataForProcess`).
   */
  data: string;
  /** The data's bytes (base64url), kept only when they are not UTF-8: `data` then lost information. */
  rawData?: string;
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
  const tags = readTags(raw.subarray(tagsStart + 16, tagsStart + 16 + Number(bytes)));
  if (BigInt(tags.length) !== count) throw malformed(`it declares ${count} tags but holds ${tags.length}`);
  const data = item.rawData;
  return {
    id: item.id,
    owner: addressOf(item.owner),
    ownerKey: item.owner,
    signature: item.signature,
    target: item.target,
    anchor: item.anchor,
    tags,
    data: data.toString("utf8"),
    ...(isUtf8(data) ? {} : { rawData: data.toString("base64url") }),
  };
}

/**
 * An item's tags (Avro: an array of records of two strings, ANS-104), each name and value checked to be
 * UTF-8. AO's legacy scheduler decodes them with an Avro schema of `string`s (permaweb/ao
 * servers/su/src/domain/core/tags.rs), which must be UTF-8, and refuses the item otherwise
 * (`InvalidTagEncoding`; inferred from avro-rs, not run here); HyperBEAM hands tag values to the compute
 * unit inside JSON, which cannot carry such bytes. So this network refuses them at the door: a 400.
 */
export function readTags(buf: Buffer): Tag[] {
  let pos = 0;
  const long = (): number => {
    let n = 0n;
    let shift = 0n;
    for (;;) {
      if (pos >= buf.length) throw malformed("its tags end in the middle of a number");
      const b = buf[pos++]!;
      n |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) break;
      shift += 7n;
      if (shift > 63n) throw malformed("its tags hold a number longer than 64 bits");
    }
    return Number((n >> 1n) ^ -(n & 1n));
  };
  const text = (what: string): string => {
    const len = long();
    if (len < 0 || pos + len > buf.length) throw malformed(`${what} runs past the end of its tags`);
    const bytes = buf.subarray(pos, pos + len);
    pos += len;
    if (!isUtf8(bytes))
      throw new RejectedItemError(
        `${what} is not UTF-8 (bytes ${bytes.toString("hex").slice(0, 32)}): AO's scheduler refuses such an item; send tag names and values as UTF-8 text`,
      );
    return bytes.toString("utf8");
  };
  const tags: Tag[] = [];
  if (buf.length === 0) return tags;
  for (let n = long(); n !== 0; n = long()) {
    if (n < 0) {
      n = -n;
      long(); // the block's size in bytes
    }
    for (; n > 0; n--) {
      const at = tags.length;
      tags.push({ name: text(`tag ${at}'s name`), value: text(`tag ${at}'s value`) });
    }
  }
  if (pos !== buf.length) throw malformed(`${buf.length - pos} bytes follow its tags`);
  return tags;
}

/**
 * The `Data` a process is handed for an item, as AO's units hand it (undefined: the message has no Data):
 * - data that is UTF-8: its text, everywhere;
 * - otherwise, on AO's legacy units (legacy processes), a message's text with each bad byte sequence
 *   replaced by U+FFFD (the scheduler serves `data` through `String::from_utf8_lossy`: permaweb/ao
 *   servers/su/src/domain/core/bytes.rs `DataItem::data`, used by json.rs `Message::from_bundle`), and
 *   none for the process's own item (`data_if_string`, used by `Process::from_bundle`);
 * - otherwise, on HyperBEAM (a process spawned with an `execution-device`, as aoconnect's mainnet mode
 *   does), none: `dev_json_iface:message_to_json_struct` hands `Data` only when
 *   `hb_util:is_printable_string` (valid Unicode), else `null` (permaweb/HyperBEAM src/dev_json_iface.erl,
 *   src/hb_util.erl; the genesis-wasm compute unit gets its messages through it, dev_delegated_compute.erl).
 * Pure.
 */
export function dataForProcess(
  item: Item,
  to: { mainnet: boolean; isProcessItem: boolean },
): string | undefined {
  if (item.rawData === undefined) return item.data;
  if (to.mainnet || to.isProcessItem) return undefined;
  return item.data;
}

/** A process spawned for HyperBEAM: its spawn names an execution device (aoconnect's mainnet mode does). */
export const isMainnetProcess = (spawn: Item): boolean =>
  spawn.tags.some((t) => t.name.toLowerCase() === "execution-device");

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
  /** Text (sent as UTF-8) or bytes. */
  data: string | Uint8Array;
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

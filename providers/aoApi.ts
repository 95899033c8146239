/**
 * What the provider asks of an AO network: the AoClient interface and the values it passes around.
 * Its implementations: aoClient.ts (legacy mode, and the choice by network) and mainnetClient.ts.
 */
import type { Tag } from "./types";

export interface AoMessage {
  Tags?: Tag[];
  Data?: unknown;
  Target?: string;
  Anchor?: string;
}

/** What a CU returns for a message or a dry-run. */
export interface AoResult {
  Messages?: AoMessage[];
  Spawns?: unknown[];
  Output?: unknown;
  Error?: unknown;
}

/**
 * What sending a message answers, and what its result is read by: the message's ID on the legacy
 * network, its slot (its place in the process's schedule) on mainnet.
 */
export type MessageRef = { id: string } | { slot: number };

export const describeRef = (ref: MessageRef) => ("slot" in ref ? `slot ${ref.slot}` : `message ${ref.id}`);

/**
 * What sending a message answered: where its result is read, and the result itself when the network
 * computed it before answering (an AO mainnet push: the node schedules, computes, then answers both).
 */
export type Sent = MessageRef & { result?: AoResult };

export interface SpawnArgs {
  module: string;
  scheduler: string;
  authority?: string;
  tags: Tag[];
  data?: string;
}

/**
 * One data item, signed once (sendOnce.ts): every `send` posts the same signed bytes; `signedId` is the
 * item's ID once it is signed; `lookup` asks the network, by that ID, whether the item was scheduled
 * (a reply lost after it was), answering what `send` would have, or undefined when it was not.
 */
export interface SignedOnce<T> {
  send(): Promise<T>;
  signedId(): string | undefined;
  lookup(): Promise<T | undefined>;
}

/** A spawn: its item's ID is the process's. */
export type Spawner = SignedOnce<string>;
/** A message to a process. */
export type MessageSender = SignedOnce<Sent>;

export interface MessageArgs {
  process: string;
  tags: Tag[];
  data?: string;
}

export interface AoClient {
  /** A spawn to send (and re-send) with the wallet. */
  spawner(args: SpawnArgs): Spawner;
  /** A message to send (and re-send) with the wallet. */
  sender(args: MessageArgs): MessageSender;
  /** Reads a message's result. */
  result(args: { process: string; message: MessageRef }): Promise<AoResult>;
  /**
   * Evaluates a message without persisting it, as from `owner`. Legacy: unsigned, `owner` claimed.
   * Mainnet: signed, by the wallet when `owner` is its address (owner-only reads), else by the run's key.
   */
  dryrun(args: { process: string; tags: Tag[]; data?: string; owner?: string }): Promise<AoResult>;
  /** Mainnet: the node's own address (its authority), as `GET /~meta@1.0/info/address` answers it. */
  nodeAddress?(): Promise<string>;
}

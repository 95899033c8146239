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

export interface SpawnArgs {
  module: string;
  scheduler: string;
  authority?: string;
  tags: Tag[];
  data?: string;
}

/**
 * One spawn, signed once: every `send` posts the same signed item, so a retry after a lost reply
 * never creates a second process; `signedId` is the process's ID once the item is signed.
 */
export interface Spawner {
  send(): Promise<string>;
  signedId(): string | undefined;
}

export interface AoClient {
  /** A spawn to send (and re-send) with the wallet. */
  spawner(args: SpawnArgs): Spawner;
  /** Whether the network knows the process (a lost spawn reply: did it go through?). */
  processExists(process: string): Promise<boolean>;
  /** Sends a signed message with the wallet. */
  message(args: { process: string; tags: Tag[]; data?: string }): Promise<MessageRef>;
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

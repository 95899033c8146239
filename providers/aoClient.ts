/**
 * The AO client the provider drives: the only adapter that talks to AO. The pipeline steps depend on
 * this interface alone; `createAoClient` (aoconnect, legacy mode) is the real implementation.
 */

import type { Endpoints, Tag } from "./types";
import type { Jwk } from "./wallet";

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

export interface AoClient {
  /** Spawns a process; resolves with its ID. Each call signs a new data item (a new process). */
  spawn(args: { module: string; scheduler: string; tags: Tag[]; data?: string }): Promise<string>;
  /** Sends a signed message; resolves with its ID. */
  message(args: { process: string; tags: Tag[]; data?: string }): Promise<string>;
  /** Reads a message's result from the CU. */
  result(args: { process: string; message: string }): Promise<AoResult>;
  /** Evaluates a message without persisting it (no signature needed). */
  dryrun(args: { process: string; tags: Tag[]; data?: string; owner?: string }): Promise<AoResult>;
  /** Looks a spawn up by its `Deployment-Id` tag through the gateway's GraphQL; undefined if none. */
  findByDeploymentId(deploymentId: string, owner: string): Promise<string | undefined>;
}

/** The real client over @permaweb/aoconnect (legacy mode). Implemented in phase 2. */
export function createAoClient(_endpoints: Endpoints, _wallet: Jwk | undefined): AoClient {
  throw new Error("createAoClient: the aoconnect adapter is not implemented yet (phase 2)");
}

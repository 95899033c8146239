/**
 * Plain data shared by the AoProcess resource, its provider and the pure decisions beside it.
 * `Inputs` are what `check` returns (defaults applied, hash computed); `Outputs` is the state.
 */
import type { Endpoints, LegacyEndpoints, MainnetEndpoints, UpgradeStrategy } from "./aoValues";
import { DEFAULT_HASH_TAG, DEFAULT_VALIDATION_ACTION } from "./footer";

// Their home is aoValues.ts (with their rules); here because the resource's types use them.
export type { Endpoints, LegacyEndpoints, MainnetEndpoints, UpgradeStrategy };

export interface Tag {
  name: string;
  value: string;
}

/** What validation expects: the dry-run `Action` and the reply tag that carries the code hash. */
export interface ValidationOptions {
  /** Dry-run `Action` tag value. Default "Info". */
  action: string;
  /** Reply tag whose value must equal the deployed code hash. Default "Code-Sha256". */
  hashTag: string;
  /** Skip the dry-run check (for code that does not opt in to the DeployedCode convention). */
  skip: boolean;
}

export interface Inputs {
  /** Bundled Lua code (bundleLua output, or plain code). */
  code: string;
  /** sha256 hex of `code`, computed by `check`. */
  codeSha256: string;
  /**
   * The program's hash without comments and layout (programHash.ts), computed by `check`; absent in
   * state written before it existed. Equal program hashes make a code change an in-place Eval.
   */
  programSha256?: string;
  module: string;
  scheduler: string;
  authority?: string;
  /** The process `Name` tag. */
  name: string;
  /** Extra spawn tags (identity tags: a change replaces the process). */
  tags: Tag[];
  endpoints: Endpoints;
  upgrade: UpgradeStrategy;
  validation: ValidationOptions;
  /** Adopt this existing process instead of spawning one (stack config `adoptProcessId`, same name). */
  adoptProcessId?: string;
  /** The process speaks the state-transfer protocol: a replacement is checked for it (STATE-TRANSFER.md). */
  stateTransfer: boolean;
}

/**
 * The state: the inputs but the code (its hash stays, and the engine keeps the code with the inputs),
 * and what the deployment produced. Leaving the code out keeps every Create/Update answer and the state
 * tens of KiB smaller.
 */
export interface Outputs extends Omit<Inputs, "code"> {
  /** The process: spawned, or adopted (then equal to `adoptProcessId`). */
  processId: string;
  /** What sending the Eval that loaded `code` answered: its message ID on the legacy network... */
  evalMessageId?: string;
  /** ...its slot in the process's schedule on AO mainnet (where results are read by slot). */
  evalSlot?: number;
  /** Arweave address of the wallet that spawned (or adopted) the process. */
  owner: string;
  /** ISO 8601 time of the last successful deploy. */
  deployedAt: string;
  /** Unique ID tagged on the spawn (`Deployment-Id`) and recorded by the footer. */
  deploymentId: string;
}

export const DEFAULT_VALIDATION: ValidationOptions = {
  action: DEFAULT_VALIDATION_ACTION,
  hashTag: DEFAULT_HASH_TAG,
  skip: false,
};

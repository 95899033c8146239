/**
 * The flags of `npm run devnet` (devnet/cli.ts), in one list that the parser reads and a test holds the
 * README to. A module of its own: cli.ts starts the network when it is loaded.
 */
import { DEFAULT_DRY_RUN_LIMITS } from "./dryRuns";
import { DEFAULT_COMPUTE_DEADLINE_MS, MAINNET_SCHEDULER } from "./index";

export const DEVNET_OPTIONS = {
  port: { type: "string", default: "4000" },
  host: { type: "string", default: "127.0.0.1" },
  data: { type: "string", default: ".devnet-data" },
  "max-live": { type: "string", default: "16" },
  "compute-deadline-ms": { type: "string", default: String(DEFAULT_COMPUTE_DEADLINE_MS) },
  /** No default: a new data directory takes distinct keys, an existing one keeps its own. */
  keys: { type: "string" },
  "foreign-schedulers": { type: "string", default: MAINNET_SCHEDULER },
  "dry-run-instances": { type: "string", default: String(DEFAULT_DRY_RUN_LIMITS.instances) },
  "dry-runs-per-peer": { type: "string", default: String(DEFAULT_DRY_RUN_LIMITS.perPeer) },
  "dry-runs-per-process": { type: "string", default: String(DEFAULT_DRY_RUN_LIMITS.perProcess) },
  help: { type: "boolean", short: "h", default: false },
} as const;

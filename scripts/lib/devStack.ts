/**
 * Where the dev stack lives: local file state under .pulumi-state/ (ignored by git), the dev-only
 * passphrase, and the dev wallet the provider signs with. Shared by deploy:dev and outputs.
 */
import { join } from "node:path";
import { hasEnvWallet } from "../../providers/wallet";
import { DEV_PASSPHRASE } from "./passphrase";

export const DEV_STACK = "dev";

export function devPaths(repoRoot: string) {
  return {
    stateDir: join(repoRoot, ".pulumi-state"),
    dataDir: join(repoRoot, ".devnet-data"),
    networkFile: join(repoRoot, ".devnet-data", "network.json"),
    wallet: join(repoRoot, ".devnet-data", "dev-wallet.json"),
  };
}

/**
 * The local engine's state (scripts/lib/engine/), beside the local network whose processes it records:
 * deleting .devnet-data forgets both together.
 */
export const devEngineStateDir = (repoRoot: string) => join(devPaths(repoRoot).dataDir, "state");

/**
 * Environment for a Pulumi command on the dev stack. A backend or passphrase the user already chose
 * wins; otherwise local file state and the dev-only passphrase (Pulumi.dev.yaml's salt belongs to it).
 */
export function devStackEnv(
  repoRoot: string,
  env: Record<string, string | undefined>,
): Record<string, string | undefined> {
  const p = devPaths(repoRoot);
  const out: Record<string, string | undefined> = { ...env };
  out.PULUMI_BACKEND_URL = env.PULUMI_BACKEND_URL || `file://${p.stateDir}`;
  if (env.PULUMI_CONFIG_PASSPHRASE === undefined && !env.PULUMI_CONFIG_PASSPHRASE_FILE) {
    out.PULUMI_CONFIG_PASSPHRASE = DEV_PASSPHRASE;
  }
  if (!hasEnvWallet(env)) out.AO_WALLET_FILE = p.wallet;
  // Never prompt: a deploy script has nobody to answer.
  out.PULUMI_SKIP_UPDATE_CHECK = "true";
  return out;
}

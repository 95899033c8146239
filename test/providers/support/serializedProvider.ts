/**
 * The AoProcess `__provider` as the program produces it, in a plain Node child
 * (serializeProvider.ts; closure serialization misbehaves under test runners' module loaders,
 * pulumi/pulumi#10480). The child's environment is the program's: pass the secrets a real `pulumi up`
 * would have there (AO_WALLET_JWK, PULUMI_CONFIG with the wallet) to prove none of them is captured.
 */
import { execFileSync } from "node:child_process";
import * as path from "node:path";

const ROOT = path.join(__dirname, "..", "..", "..");

export interface SerializedProvider {
  /** `__provider` as the program registers it (an AoProcess declared under mocks). */
  text: string;
  /** The shim serialized as the dynamic Resource does it, directly. */
  direct: string;
  containsSecrets: boolean;
  ms: number;
}

export function serializeProviderInChild(env: Record<string, string | undefined> = {}): SerializedProvider {
  const childEnv: Record<string, string | undefined> = { ...process.env, ...env };
  delete childEnv.NODE_OPTIONS;
  const out = execFileSync(
    process.execPath,
    ["--import", "tsx", path.join("test", "providers", "support", "serializeProvider.ts")],
    {
      cwd: ROOT,
      env: childEnv as NodeJS.ProcessEnv,
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  return JSON.parse(out) as SerializedProvider;
}

/** PULUMI_CONFIG / PULUMI_CONFIG_SECRET_KEYS as the Node.js language host gives them to the program. */
export function programConfigEnv(
  config: Record<string, string>,
  secretKeys: string[],
): Record<string, string> {
  return {
    PULUMI_CONFIG: JSON.stringify(config),
    PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(secretKeys),
  };
}

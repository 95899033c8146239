/**
 * A stack's configuration as the engine hands it to the program and the provider host: the plain
 * values of `Pulumi.<stack>.yaml`'s `config:` (namespaced keys, string values), then the overrides of
 * this run (--network-file, --adopt, --github). Encrypted (`secure:`) values are left out: secrets come
 * from the environment here (AO_WALLET_FILE, GITHUB_TOKEN).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

export function stackConfig(
  repoRoot: string,
  stack: string,
  overrides: Record<string, string | undefined>,
): Record<string, string> {
  const yaml = require("js-yaml") as { load(text: string): unknown };
  const file = join(repoRoot, `Pulumi.${stack}.yaml`);
  const doc = (yaml.load(readFileSync(file, "utf8")) ?? {}) as { config?: Record<string, unknown> };
  const config: Record<string, string> = {};
  for (const [k, v] of Object.entries(doc.config ?? {})) {
    if (typeof v === "string") config[k] = v;
    else if (typeof v === "number" || typeof v === "boolean") config[k] = String(v);
  }
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) config[k] = v;
  return config;
}

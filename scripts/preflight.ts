/**
 * `npm run preflight -- --stack production`: before anything reaches AO, checks what a deploy of the stack
 * relies on, read-only and without a wallet, and prints one table of facts and a verdict (exit 1 when the
 * deploy would stop, 2 on a usage error):
 * - the stack's config (`Pulumi.<stack>.yaml`, with Pulumi.yaml's defaults) resolves;
 * - AO mainnet: the node's address (GET <nodeUrl>/~meta@1.0/info/address) is the pinned authority, else
 *   the one the stack's outputs record (providers/authority.ts decides, as the deploy's diff does);
 * - the scheduler has a Scheduler-Location record and the module a transaction, looked up through the
 *   gateway's GraphQL (aoRegistry:gatewayUrl; the legacy network's gateway). Not through the node: this
 *   project knows no node route that answers either without signing a request.
 *
 * The outputs come from --from-file (a `pulumi stack output --json` document), else from the Pulumi CLI
 * (`pulumi stack output --json`, as `npm run outputs` reads them); a stack the backend does not know yet
 * has none (a first deploy).
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { ConfigError, type ConfigKey, PROJECT, resolveSettings } from "../infra/config";
import { formatPreflight, type Lookup, type PreflightFacts, preflightRows } from "./lib/preflightChecks";
import { moduleRecord, nodeAddress, schedulerLocation } from "./lib/preflightLookups";
import { pulumiStackOutput } from "./outputs";

export const PREFLIGHT_OPTIONS = {
  stack: { type: "string" },
  "from-file": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

export const USAGE =
  "Usage: npm run preflight -- --stack <name> [--from-file <pulumi stack output --json file>]";

export interface Io {
  repoRoot: string;
  env: Record<string, string | undefined>;
  stdout(text: string): void;
  stderr(text: string): void;
  /** `pulumi stack output --json --stack <stack>`; throws with the CLI's words when it cannot. */
  stackOutput(stack: string): string;
  readFile(path: string): string | undefined;
}

class UsageError extends Error {}

/** A stack file's `config:` map: plain values as strings, `secure:` values marked secret. */
function stackFileConfig(text: string, file: string): Map<string, { value: string; secret: boolean }> {
  const yaml = require("js-yaml") as { load(text: string): unknown };
  let doc: unknown;
  try {
    doc = yaml.load(text);
  } catch (e) {
    throw new UsageError(`${file} is not YAML: ${(e as Error).message.split("\n")[0]}`);
  }
  const config = ((doc ?? {}) as { config?: Record<string, unknown> }).config ?? {};
  const out = new Map<string, { value: string; secret: boolean }>();
  for (const [k, v] of Object.entries(config)) {
    if (typeof v === "object" && v !== null && "secure" in v) out.set(k, { value: "[secret]", secret: true });
    else if (v !== null && v !== undefined) out.set(k, { value: String(v), secret: false });
  }
  return out;
}

/** Pulumi's answer for a stack its backend does not know: nothing recorded yet (a first deploy). */
export const isUnknownStack = (message: string) =>
  /no stack named|stack .* not found|could not find stack/i.test(message);

/** What the stack's outputs record, from a file or the Pulumi CLI. */
function recordedOutputs(stack: string, fromFile: string | undefined, io: Io) {
  const source = fromFile ? `--from-file ${fromFile}` : `pulumi stack output --json --stack ${stack}`;
  let text: string;
  try {
    if (fromFile) {
      const t = io.readFile(resolve(fromFile));
      if (t === undefined) throw new UsageError(`--from-file ${fromFile}: no such file`);
      text = t;
    } else text = io.stackOutput(stack);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    const message = (e as Error).message;
    if (isUnknownStack(message)) return { source, recorded: { found: {} } as const };
    return { source, recorded: { failed: message.split("\n").slice(0, 3).join(" ") } as const };
  }
  try {
    const o = JSON.parse(text) as Record<string, unknown>;
    const str = (k: string) => (typeof o[k] === "string" ? (o[k] as string) : undefined);
    const found = {
      ...(str("processId") ? { processId: str("processId") } : {}),
      ...(str("authority") ? { authority: str("authority") } : {}),
      ...(str("network") ? { network: str("network") } : {}),
    };
    return { source, recorded: { found } as const };
  } catch {
    return { source, recorded: { failed: `${source} is not a JSON document of stack outputs` } as const };
  }
}

export async function main(argv: string[], io: Io): Promise<number> {
  try {
    const { values } = parseArgs({ args: argv, options: PREFLIGHT_OPTIONS });
    if (values.help) {
      io.stdout(`${USAGE}\n`);
      return 0;
    }
    const stack = values.stack;
    if (!stack) throw new UsageError(`--stack is required: ${USAGE}`);
    const file = join(io.repoRoot, `Pulumi.${stack}.yaml`);
    const text = io.readFile(file);
    if (text === undefined) throw new UsageError(`--stack ${stack}: ${file} does not exist`);
    const config = stackFileConfig(text, file);
    const settings = resolveSettings({
      stack,
      get: (k: ConfigKey) => config.get(`${PROJECT}:${k}`)?.value,
      isSecret: (k: ConfigKey) => config.get(`${PROJECT}:${k}`)?.secret ?? false,
      env: io.env,
      resolvePath: (p) => resolve(io.repoRoot, p),
      readFile: io.readFile,
    });
    const { source, recorded } = recordedOutputs(stack, values["from-file"], io);
    const e = settings.endpoints;
    const node = e.network === "mainnet" ? e.node : e.mu;
    const computeNode = e.network === "mainnet" ? e.computeNode : undefined;
    const gateway = settings.lookupGateway;
    const [address, computeAddress, location, module] = await Promise.all([
      e.network === "mainnet" ? nodeAddress(node) : undefined,
      computeNode ? nodeAddress(computeNode) : undefined,
      gateway ? schedulerLocation(gateway, settings.scheduler) : undefined,
      gateway ? moduleRecord(gateway, settings.module) : undefined,
    ]);
    const facts: PreflightFacts = {
      stack,
      network: e.network,
      node,
      ...(computeNode ? { computeNode } : {}),
      module: settings.module,
      scheduler: settings.scheduler,
      ...(settings.authority ? { pinned: settings.authority } : {}),
      recorded: recorded as Lookup<{ processId?: string; authority?: string; network?: string }>,
      outputsSource: source,
      ...(address ? { nodeAddress: address } : {}),
      ...(computeAddress ? { computeNodeAddress: computeAddress } : {}),
      ...(gateway ? { gateway } : {}),
      ...(location ? { schedulerLocation: location } : {}),
      ...(module ? { moduleRecord: module } : {}),
    };
    const result = preflightRows(facts);
    io.stdout(formatPreflight(stack, result));
    return result.go ? 0 : 1;
  } catch (e) {
    if (e instanceof ConfigError) {
      // A stack config the program refuses stops the deploy too: a verdict, not a usage error.
      io.stdout(`verdict: STOP: ${e.message}\n`);
      return 1;
    }
    io.stderr(`preflight: ${(e as Error).message}\n`);
    return e instanceof UsageError ? 2 : 1;
  }
}

if (require.main === module) {
  const repoRoot = join(__dirname, "..");
  main(process.argv.slice(2), {
    repoRoot,
    env: process.env,
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    stackOutput: (stack) => pulumiStackOutput(stack, process.env, repoRoot),
    readFile: (p) => {
      try {
        return readFileSync(p, "utf8");
      } catch {
        return undefined;
      }
    },
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(`preflight: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = 1;
    },
  );
}

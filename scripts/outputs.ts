/**
 * `npm run outputs -- --stack <name>`: turns `pulumi stack output --json` into what a CLI build reads,
 * a `.env` (REGISTRY_PROCESS_ID=..., the AO endpoints) and a JSON config file.
 *
 *   --stack <name>        stack to read (required)
 *   --from-file <path>    read the `pulumi stack output --json` document from a file instead of running pulumi
 *   --stdin               read it from standard input
 *   --env-file <path>     .env to write (default .env; other variables in it are kept)
 *   --json-file <path>    JSON config to write (default registry.config.json)
 *   --print env|json      print one of them to stdout instead of writing files
 *   --state <dir>         without the Pulumi CLI: the local engine's state directory (default .devnet-data/state)
 *
 * The transform (toCliConfig, toDotEnv, mergeDotEnv) is pure; main() is the thin I/O around it.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { PROJECT } from "../infra/config";
import { type StackOutputs, stackOutputsSchema } from "../infra/stackOutputs";
import { propertyOf } from "../providers/aoValues";
import { DEV_STACK, devEngineStateDir, devStackEnv } from "./lib/devStack";
import { localStackOutputs } from "./lib/engine/stackOutputs";
import { findPulumiCli, missingPulumiMessage } from "./lib/pulumiCli";

/** What a CLI build reads: the stack's outputs (infra/stackOutputs.ts) it needs, and the stack's name. */
const cliOutputs = stackOutputsSchema.pick({
  processId: true,
  codeSha256: true,
  module: true,
  scheduler: true,
  authority: true,
  owner: true,
  network: true,
  endpoints: true,
  deployedAt: true,
});
export type CliConfig = { stack: string } & Pick<StackOutputs, keyof typeof cliOutputs.shape>;

export class OutputsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OutputsError";
  }
}

function deployHint(stack: string): string {
  return stack === "dev" ? "npm run deploy:dev" : `pulumi up --stack ${stack}`;
}

/** Validates the stack outputs and shapes them for a CLI build. Throws OutputsError with the fix. */
export function toCliConfig(stackOutputJson: string, stack: string): CliConfig {
  let data: unknown;
  try {
    data = JSON.parse(stackOutputJson);
  } catch (e) {
    throw new OutputsError(`The outputs of stack '${stack}' are not JSON (${(e as Error).message}).`);
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new OutputsError(`The outputs of stack '${stack}' are not a JSON object.`);
  }
  const o = { ...data } as Record<string, unknown>;
  if (o.authority === "") delete o.authority; // no authority: the network's default
  // Stacks deployed before the `network` output said it only in `endpoints` (legacy when absent there).
  if (o.network === undefined && o.endpoints && typeof o.endpoints === "object")
    o.network = (o.endpoints as { network?: unknown }).network ?? "legacy";
  if (Object.keys(o).length === 0) {
    throw new OutputsError(
      `Stack '${stack}' has no outputs: it has not been deployed yet. Deploy it first: ${deployHint(stack)}`,
    );
  }
  if (o.processId === undefined || o.processId === null || o.processId === "") {
    throw new OutputsError(
      `Stack '${stack}' has no process yet (no processId output; its last update may have failed). Deploy it: ${deployHint(stack)}`,
    );
  }
  const secrets = Object.keys(cliOutputs.shape).filter((k) => o[k] === "[secret]");
  const parsed = cliOutputs.safeParse(o);
  const endpointsNetwork = parsed.success ? (parsed.data.endpoints.network ?? "legacy") : undefined;
  const problems = [
    ...(parsed.success && parsed.data.network !== endpointsNetwork
      ? [
          `network ${parsed.data.network} disagrees with endpoints (${endpointsNetwork}): the outputs are not one program's`,
        ]
      : []),
    ...secrets.map(
      (k) => `${k} is a secret; these outputs are never secret, so the stack is not this program's`,
    ),
    ...(parsed.success ? [] : parsed.error.issues)
      .filter((i) => !secrets.includes(String(i.path[0])))
      .map((i) => `${propertyOf(i.path)} ${i.message}`),
  ];
  if (!parsed.success || problems.length) {
    throw new OutputsError(
      `The outputs of stack '${stack}' cannot configure a CLI build:\n${problems.map((p) => `  - ${p}`).join("\n")}\n` +
        `Redeploy with the current program (${deployHint(stack)}).`,
    );
  }
  const { authority, deployedAt, ...rest } = parsed.data;
  return {
    stack,
    ...rest,
    ...(authority ? { authority } : {}),
    ...(deployedAt ? { deployedAt } : {}),
  };
}

/** The variables a CLI build reads, in a stable order. */
export function envVariables(c: CliConfig): [string, string][] {
  const vars: [string, string][] = [
    ["REGISTRY_PROCESS_ID", c.processId],
    ["REGISTRY_CODE_SHA256", c.codeSha256],
    ["REGISTRY_STACK", c.stack],
    ["AO_NETWORK", c.network],
    ...(c.endpoints.network === "mainnet"
      ? ([["AO_NODE_URL", c.endpoints.node]] as [string, string][])
      : ([
          ["AO_MU_URL", c.endpoints.mu],
          ["AO_CU_URL", c.endpoints.cu],
          ["AO_GATEWAY_URL", c.endpoints.gateway],
        ] as [string, string][])),
    ["AO_MODULE", c.module],
    ["AO_SCHEDULER", c.scheduler],
  ];
  if (c.authority) vars.push(["AO_AUTHORITY", c.authority]);
  return vars;
}

export function toDotEnv(c: CliConfig): string {
  return `${envVariables(c)
    .map(([k, v]) => `${k}=${v}`)
    .join("\n")}\n`;
}

/** Variables written only for some stacks (an authority; one network's URLs): dropped when not written. */
const MAYBE_OURS = ["AO_AUTHORITY", "AO_NODE_URL", "AO_MU_URL", "AO_CU_URL", "AO_GATEWAY_URL"];

/** Replaces our variables in an existing .env and keeps every other line. */
export function mergeDotEnv(existing: string, c: CliConfig): string {
  const ours = new Map(envVariables(c));
  const kept = existing
    .split("\n")
    .filter((line) => {
      const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=/.exec(line);
      return !(m && (ours.has(m[1]!) || MAYBE_OURS.includes(m[1]!)));
    })
    .join("\n")
    .replace(/\n+$/, "");
  return kept ? `${kept}\n${toDotEnv(c)}` : toDotEnv(c);
}

export function toJson(c: CliConfig): string {
  return `${JSON.stringify(c, null, 2)}\n`;
}

export interface Io {
  cwd: string;
  env: Record<string, string | undefined>;
  readStdin(): string;
  stdout(text: string): void;
  stderr(text: string): void;
  /** Runs `pulumi stack output --json --stack <stack>` (or reads the local engine's state in `stateDir`). */
  stackOutput(stack: string, stateDir?: string): string;
}

function writeAtomic(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

/** The flags of `npm run outputs`: the parser reads this list and a test holds the README to it. */
export const OUTPUTS_OPTIONS = {
  stack: { type: "string" },
  "from-file": { type: "string" },
  stdin: { type: "boolean", default: false },
  "env-file": { type: "string", default: ".env" },
  "json-file": { type: "string", default: "registry.config.json" },
  print: { type: "string" },
  state: { type: "string" },
  help: { type: "boolean", short: "h", default: false },
} as const;

export function main(argv: string[], io: Io): number {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: OUTPUTS_OPTIONS,
    }));
  } catch (e) {
    io.stderr(
      `${(e as Error).message}\nUsage: npm run outputs -- --stack <name> [--from-file f | --stdin] [--print env|json]\n`,
    );
    return 2;
  }
  if (values.help) {
    io.stdout(
      "Usage: npm run outputs -- --stack <name> [--from-file <path> | --stdin] [--env-file .env] [--json-file registry.config.json] [--print env|json]\n",
    );
    return 0;
  }
  const stack = values.stack as string | undefined;
  if (!stack) {
    io.stderr("--stack is required: npm run outputs -- --stack production\n");
    return 2;
  }
  if (values.print !== undefined && values.print !== "env" && values.print !== "json") {
    io.stderr(`--print ${values.print}: use env or json\n`);
    return 2;
  }
  try {
    const text = values["from-file"]
      ? readFileSync(resolve(io.cwd, values["from-file"] as string), "utf8")
      : values.stdin
        ? io.readStdin()
        : io.stackOutput(stack, values.state ? resolve(io.cwd, values.state as string) : undefined);
    const config = toCliConfig(text, stack);
    if (values.print === "env") io.stdout(toDotEnv(config));
    else if (values.print === "json") io.stdout(toJson(config));
    else {
      const envFile = resolve(io.cwd, values["env-file"] as string);
      const jsonFile = resolve(io.cwd, values["json-file"] as string);
      writeAtomic(envFile, mergeDotEnv(existsSync(envFile) ? readFileSync(envFile, "utf8") : "", config));
      writeAtomic(jsonFile, toJson(config));
      io.stderr(`REGISTRY_PROCESS_ID=${config.processId} (stack ${stack}) -> ${envFile}, ${jsonFile}\n`);
    }
    return 0;
  } catch (e) {
    io.stderr(`${(e as Error).message}\n`);
    return 1;
  }
}

/** The real `pulumi stack output --json`. */
export function pulumiStackOutput(
  stack: string,
  env: Record<string, string | undefined>,
  repoRoot: string,
  stateDir?: string,
): string {
  // A state given on the command line, or no CLI: what the local engine (deploy:dev without it) recorded.
  const local = () => localStackOutputs(stateDir ?? devEngineStateDir(repoRoot), PROJECT, stack);
  if (stateDir) return local() ?? "{}";
  const found = findPulumiCli(env, repoRoot);
  if (!("cli" in found)) {
    const recorded = local();
    if (recorded !== undefined) return recorded;
    throw new OutputsError(missingPulumiMessage(found.tried));
  }
  const r = spawnSync(found.cli.command, ["stack", "output", "--json", "--stack", stack], {
    cwd: repoRoot,
    // The dev stack lives in local file state; any other stack in the user's chosen backend.
    env: (stack === DEV_STACK ? devStackEnv(repoRoot, env) : env) as NodeJS.ProcessEnv,
    encoding: "utf8",
  });
  if (r.status !== 0) {
    throw new OutputsError(
      `pulumi stack output --stack ${stack} failed (exit ${r.status}):\n${(r.stderr ?? "").trim()}`,
    );
  }
  return r.stdout;
}

if (require.main === module) {
  const repoRoot = join(__dirname, "..");
  process.exitCode = main(process.argv.slice(2), {
    cwd: process.cwd(),
    env: process.env,
    readStdin: () => readFileSync(0, "utf8"),
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    stackOutput: (stack, stateDir) => pulumiStackOutput(stack, process.env, repoRoot, stateDir),
  });
}

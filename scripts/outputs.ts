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
import { DEV_STACK, devEngineStateDir, devStackEnv } from "./lib/devStack";
import { localStackOutputs } from "./lib/engine/stackOutputs";
import { findPulumiCli, missingPulumiMessage } from "./lib/pulumiCli";

export interface CliConfig {
  stack: string;
  processId: string;
  codeSha256: string;
  module: string;
  scheduler: string;
  authority?: string;
  /** Address of the wallet that deployed the process. */
  owner: string;
  endpoints: { mu: string; cu: string; gateway: string };
  deployedAt?: string;
}

export class OutputsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OutputsError";
  }
}

const AO_ID = /^[A-Za-z0-9_-]{43}$/;

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
  const o = data as Record<string, unknown>;
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
  const problems: string[] = [];
  const str = (k: string, pattern?: RegExp, what?: string): string => {
    const v = o[k];
    if (v === "[secret]")
      problems.push(`${k} is a secret; these outputs are never secret, so the stack is not this program's`);
    else if (typeof v !== "string" || !v) problems.push(`${k} is missing`);
    else if (pattern && !pattern.test(v)) problems.push(`${k} ${JSON.stringify(v)} is not ${what}`);
    else return v;
    return "";
  };
  const processId = str("processId", AO_ID, "a 43-character AO process ID");
  const codeSha256 = str("codeSha256", /^[0-9a-f]{64}$/, "a sha256 in hex");
  const module = str("module", AO_ID, "a 43-character module ID");
  const scheduler = str("scheduler", AO_ID, "a 43-character address");
  const owner = str("owner", AO_ID, "a 43-character address");
  const authority = typeof o.authority === "string" && o.authority ? o.authority : undefined;
  if (authority !== undefined && !AO_ID.test(authority))
    problems.push(`authority ${JSON.stringify(authority)} is not a 43-character address`);

  const endpoints = { mu: "", cu: "", gateway: "" };
  const e = o.endpoints as Record<string, unknown> | undefined;
  if (typeof e !== "object" || e === null) problems.push("endpoints is missing");
  else {
    for (const unit of ["mu", "cu", "gateway"] as const) {
      const v = e[unit];
      let ok = false;
      if (typeof v === "string") {
        try {
          ok = ["http:", "https:"].includes(new URL(v).protocol);
        } catch {}
      }
      if (ok) endpoints[unit] = v as string;
      else
        problems.push(
          `endpoints.${unit} ${v === undefined ? "is missing" : `${JSON.stringify(v)} is not an http(s) URL`}`,
        );
    }
  }
  if (problems.length) {
    throw new OutputsError(
      `The outputs of stack '${stack}' cannot configure a CLI build:\n${problems.map((p) => `  - ${p}`).join("\n")}\n` +
        `Redeploy with the current program (${deployHint(stack)}).`,
    );
  }
  return {
    stack,
    processId,
    codeSha256,
    module,
    scheduler,
    ...(authority ? { authority } : {}),
    owner,
    endpoints,
    ...(typeof o.deployedAt === "string" ? { deployedAt: o.deployedAt } : {}),
  };
}

/** The variables a CLI build reads, in a stable order. */
export function envVariables(c: CliConfig): [string, string][] {
  const vars: [string, string][] = [
    ["REGISTRY_PROCESS_ID", c.processId],
    ["REGISTRY_CODE_SHA256", c.codeSha256],
    ["REGISTRY_STACK", c.stack],
    ["AO_MU_URL", c.endpoints.mu],
    ["AO_CU_URL", c.endpoints.cu],
    ["AO_GATEWAY_URL", c.endpoints.gateway],
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

/** Replaces our variables in an existing .env and keeps every other line. */
export function mergeDotEnv(existing: string, c: CliConfig): string {
  const ours = new Map(envVariables(c));
  const kept = existing
    .split("\n")
    .filter((line) => {
      const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=/.exec(line);
      return !(m && (ours.has(m[1]!) || m[1] === "AO_AUTHORITY"));
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

export function main(argv: string[], io: Io): number {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        stack: { type: "string" },
        "from-file": { type: "string" },
        stdin: { type: "boolean", default: false },
        "env-file": { type: "string", default: ".env" },
        "json-file": { type: "string", default: "registry.config.json" },
        print: { type: "string" },
        state: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
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

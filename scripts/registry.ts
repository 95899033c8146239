/**
 * `npm run registry -- <Action> [json] [flags]`: sends one registry action to a stack's process and
 * prints the reply. The process, its network and endpoints come from the stack's outputs (the same
 * reader as `npm run outputs`); reads are dry-runs that need no wallet, writes are messages signed by
 * the stack's wallet (the dev wallet for the dev stack, else AO_WALLET_JWK or ARWEAVE_WALLET_JWK / AO_WALLET_FILE).
 *
 *   npm run registry -- Info
 *   npm run registry -- Register-Skill '{"name":"pdf-tools","description":"Read PDF files"}'
 *
 * Flags: --stack <name> (default dev), --state <dir> (the local engine's state directory), --dry-run /
 * --message (override which an action is), --tag Name=Value (repeatable, extra tags), --json (the
 * reply's data only, as JSON on stdout).
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { AoResult } from "../providers/aoApi";
import { createAoClient } from "../providers/aoClient";
import type { Endpoints, Tag } from "../providers/types";
import { readWallet } from "../providers/wallet";
import { DEV_STACK, devStackEnv } from "./lib/devStack";
import { type CliConfig, OutputsError, pulumiStackOutput, toCliConfig } from "./outputs";

/** The registry's actions that change nothing: sent as dry-runs unless --message says otherwise. */
export const READ_ACTIONS = [
  "Info",
  "Get-Skill",
  "List-Skills",
  "Search-Skills",
  "Export-State",
  "State-Info",
  "State-Export",
] as const;

export const REGISTRY_OPTIONS = {
  stack: { type: "string" },
  state: { type: "string" },
  "dry-run": { type: "boolean" },
  message: { type: "boolean" },
  tag: { type: "string", multiple: true },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

export const USAGE =
  "Usage: npm run registry -- <Action> [json data] [--stack dev] [--state <dir>] [--dry-run | --message] [--tag Name=Value] [--json]";

export interface RegistryRequest {
  stack: string;
  stateDir?: string;
  action: string;
  data: string;
  tags: Tag[];
  /** A dry-run (nothing kept, no wallet) or a signed message. */
  read: boolean;
  json: boolean;
}

export class RequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RequestError";
  }
}

/** The command line, checked. Pure. */
export function parseRequest(argv: string[]): RegistryRequest | "help" {
  const { values, positionals } = parseArgs({
    args: argv,
    options: REGISTRY_OPTIONS,
    allowPositionals: true,
  });
  if (values.help) return "help";
  const [action, data, ...rest] = positionals;
  if (!action) throw new RequestError(`no action given: ${USAGE}`);
  if (!/^[A-Za-z][A-Za-z0-9-]*$/.test(action))
    throw new RequestError(`${action}: an action is a word like Info or Get-Skill`);
  if (rest.length)
    throw new RequestError(`${rest.join(" ")}: one JSON argument only (quote it: '{"name":"pdf-tools"}')`);
  if (data !== undefined) {
    try {
      JSON.parse(data);
    } catch (e) {
      throw new RequestError(
        `${data}: not JSON (${(e as Error).message}); quote it for the shell, e.g. '{"name":"pdf-tools"}'`,
      );
    }
  }
  if (values["dry-run"] && values.message) throw new RequestError("--dry-run and --message: choose one");
  const tags: Tag[] = [];
  for (const t of values.tag ?? []) {
    const m = /^([^=]+)=(.*)$/s.exec(t);
    if (!m) throw new RequestError(`--tag ${t}: use --tag Name=Value`);
    tags.push({ name: m[1]!, value: m[2]! });
  }
  const read = values["dry-run"]
    ? true
    : values.message
      ? false
      : (READ_ACTIONS as readonly string[]).includes(action);
  return {
    stack: values.stack ?? DEV_STACK,
    stateDir: values.state,
    action,
    data: data ?? "{}",
    tags,
    read,
    json: values.json === true,
  };
}

/** The registry's reply in a result: its first message's tags and data. */
export function replyOf(result: AoResult & { error?: unknown }): {
  tags: Record<string, string>;
  data: unknown;
} {
  if (result.Error !== undefined || result.error !== undefined)
    throw new RequestError(`the process failed: ${String(result.Error ?? result.error)}`);
  const msg = result.Messages?.[0];
  if (!msg) throw new RequestError("the process sent no reply (is it a registry? try Info)");
  const tags = Object.fromEntries((msg.Tags ?? []).map((t) => [t.name, t.value]));
  let data: unknown = msg.Data;
  if (typeof data === "string") {
    try {
      data = JSON.parse(data);
    } catch {
      // a reply that is not JSON is printed as it is
    }
  }
  return { tags, data };
}

/** The reply as a person reads it: the status line, then the data. Pure. */
export function formatReply(reply: { tags: Record<string, string>; data: unknown }): string {
  const status = [
    reply.tags.Action ?? "reply",
    reply.tags.Status ?? "",
    reply.tags["Error-Code"] ?? "",
    reply.tags["Moved-To"] ? `(moved to ${reply.tags["Moved-To"]})` : "",
  ]
    .filter(Boolean)
    .join(" ");
  return `${status}\n${JSON.stringify(reply.data, null, 2)}\n`;
}

export interface Io {
  env: Record<string, string | undefined>;
  repoRoot: string;
  stdout(text: string): void;
  stderr(text: string): void;
  /** The stack's outputs (`pulumi stack output --json`, or the local engine's state). */
  stackOutput(stack: string, stateDir?: string): string;
}

/** Sends the request and answers the reply. */
export async function send(
  req: RegistryRequest,
  target: CliConfig,
  env: Record<string, string | undefined>,
): Promise<{ tags: Record<string, string>; data: unknown }> {
  const endpoints = target.endpoints as Endpoints;
  const tags = [{ name: "Action", value: req.action }, ...req.tags];
  if (req.read) {
    const client = createAoClient(endpoints, undefined);
    return replyOf(await client.dryrun({ process: target.processId, tags, data: req.data }));
  }
  const client = createAoClient(endpoints, readWallet(env));
  const ref = await client.message({ process: target.processId, tags, data: req.data });
  return replyOf(await client.result({ process: target.processId, message: ref }));
}

export async function main(argv: string[], io: Io): Promise<number> {
  try {
    const req = parseRequest(argv);
    if (req === "help") {
      io.stdout(`${USAGE}\nRead actions (dry-runs, no wallet): ${READ_ACTIONS.join(", ")}\n`);
      return 0;
    }
    const target = toCliConfig(io.stackOutput(req.stack, req.stateDir), req.stack);
    // The dev stack signs with the dev wallet unless the user set one, as deploy:dev does.
    const env = req.stack === DEV_STACK ? devStackEnv(io.repoRoot, io.env) : io.env;
    io.stderr(
      `${req.read ? "dry-run" : "message"} ${req.action} -> ${target.processId} (stack ${req.stack}, ${target.network})\n`,
    );
    const reply = await send(req, target, env);
    io.stdout(req.json ? `${JSON.stringify(reply.data)}\n` : formatReply(reply));
    return reply.tags.Status === "Error" ? 1 : 0;
  } catch (e) {
    io.stderr(`${(e as Error).message}\n`);
    return e instanceof RequestError || e instanceof OutputsError ? 2 : 1;
  }
}

if (require.main === module) {
  const repoRoot = join(__dirname, "..");
  main(process.argv.slice(2), {
    env: process.env,
    repoRoot,
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    stackOutput: (stack, stateDir) => pulumiStackOutput(stack, process.env, repoRoot, stateDir),
  }).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}

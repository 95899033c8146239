/**
 * The command line of `npm run deploy:dev`, checked. Pure. `DEPLOY_OPTIONS` is the one list of its flags:
 * the parser reads it and a test holds the README's flag table to it.
 */
import { parseArgs } from "node:util";

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Every flag deploy:dev accepts, with its value type (the README documents each). */
export const DEPLOY_OPTIONS = {
  preview: { type: "boolean" },
  json: { type: "boolean" },
  verbose: { type: "boolean" },
  port: { type: "string" },
  "local-engine": { type: "boolean" },
  state: { type: "string" },
  "network-file": { type: "string" },
  wallet: { type: "string" },
  adopt: { type: "string" },
  config: { type: "string", multiple: true },
  github: { type: "string" },
} as const;

export interface DeployFlags {
  localEngine: boolean;
  /** `--port N`: the local network's port (0: any free one). */
  port?: number;
  networkFile?: string;
  wallet?: string;
  github?: { owner: string; repository: string };
  adopt?: string;
  /** `--config key=value` (repeatable): stack settings for this run (`aoRegistry:<key>`), local engine only. */
  config: Record<string, string>;
  state?: string;
  json: boolean;
  preview: boolean;
  verbose: boolean;
  /** Arguments for `pulumi up` (Pulumi CLI only). */
  passthrough: string[];
}

const VALUED = ["port", "network-file", "wallet", "github", "adopt", "state"] as const;

export function parseDeployArgs(argv: string[]): DeployFlags {
  const { values, tokens } = parseArgs({ args: argv, strict: false, tokens: true, options: DEPLOY_OPTIONS });
  const known = new Set(Object.keys(DEPLOY_OPTIONS));
  const passthrough: string[] = [];
  for (const t of tokens ?? []) {
    if (t.kind === "option" && !known.has(t.name))
      passthrough.push(t.rawName, ...(t.value !== undefined ? [t.value] : []));
    else if (t.kind === "positional") passthrough.push(t.value);
  }
  for (const k of VALUED) {
    if (values[k] !== undefined && typeof values[k] !== "string")
      throw new UsageError(`--${k} needs a value: --${k}=<value>`);
  }
  let port: number | undefined;
  if (typeof values.port === "string") {
    port = Number(values.port);
    if (!/^\d+$/.test(values.port) || port > 65535)
      throw new UsageError(`--port ${values.port}: use a port number from 1 to 65535, or 0 for any free one`);
  }
  let github: DeployFlags["github"];
  if (typeof values.github === "string") {
    const [owner, repository, ...rest] = values.github.split("/");
    if (!owner || !repository || rest.length)
      throw new UsageError(`--github ${values.github}: use --github <owner>/<repository>`);
    github = { owner, repository };
  }
  const config: Record<string, string> = {};
  for (const pair of (values.config ?? []) as unknown[]) {
    const m = typeof pair === "string" ? /^([A-Za-z][A-Za-z0-9]*)=(.*)$/s.exec(pair) : null;
    if (!m)
      throw new UsageError(
        `--config ${String(pair)}: use --config <key>=<value>, e.g. --config movePageBytes=1024`,
      );
    config[m[1]!] = m[2]!;
  }
  if (port !== undefined && typeof values["network-file"] === "string")
    throw new UsageError(
      "--port and --network-file: choose one (--network-file names a network that runs already, on its own port)",
    );
  const str = (v: unknown) => (typeof v === "string" ? v : undefined);
  return {
    localEngine: values["local-engine"] === true,
    port,
    networkFile: str(values["network-file"]),
    wallet: str(values.wallet),
    github,
    adopt: str(values.adopt),
    config,
    state: str(values.state),
    json: values.json === true,
    preview: values.preview === true,
    verbose: values.verbose === true,
    passthrough,
  };
}

/**
 * `npm run deploy:dev [-- flags]`: the main job, deploying the registry to the local AO network.
 *
 * 1. Starts the local AO network when .devnet-data/network.json does not describe one that answers:
 *    `devnet/cli.ts` (what `npm run devnet` runs), detached, logging to .devnet-data/devnet.log, and
 *    waits until it has written a fresh network.json whose URLs answer.
 * 2. Creates the dev wallet .devnet-data/dev-wallet.json (ignored by git) when there is none.
 * 3. With a Pulumi CLI that runs (PATH, ~/.pulumi/bin, or the official `pulumi` npm launcher):
 *    `pulumi stack select --create dev`, then `pulumi up --stack dev --yes`, with local file state
 *    (.pulumi-state/) and the dev-only passphrase (scripts/lib/devStack.ts).
 *    Without one (or with --local-engine), says so in one line and runs the same program through the
 *    local engine (scripts/lib/engine/): `pulumi up` on the state .devnet-data/state/dev.json.
 *
 * Flags: --preview (the plan only), --json (stdout: the stack outputs only), --verbose (logs, traces);
 * local engine: --state DIR, --network-file F, --wallet F, --adopt=<process ID>, --config key=value,
 * --github owner/repo.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, openSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { type NetworkInfo, parseNetworkFile } from "../devnet/networkFile";
import { memory64Flags } from "../devnet/nodeVersions.cjs";
import { createWallet } from "../devnet/wallet";
import { PROJECT } from "../infra/config";
import { addressOf } from "../providers/wallet";
import { DEV_STACK, devEngineStateDir, devPaths, devStackEnv } from "./lib/devStack";
import { formatFailure } from "./lib/engine/messages";
import { up } from "./lib/engine/runner";
import { stackConfig } from "./lib/engine/stackConfig";
import { findPulumiCli, missingPulumiMessage, type PulumiCli } from "./lib/pulumiCli";

export const DEFAULT_PORT = 4000;

/** Whether every unit the network file names answers HTTP (any status: the server is up). */
export async function networkAnswers(info: NetworkInfo, timeoutMs = 2000): Promise<boolean> {
  const origins = new Set([info.urls.mu, info.urls.cu, info.urls.gateway].map((u) => new URL(u).origin));
  const results = await Promise.all(
    [...origins].map(async (origin) => {
      try {
        const res = await fetch(origin, { signal: AbortSignal.timeout(timeoutMs) });
        await res.body?.cancel();
        return true;
      } catch {
        return false;
      }
    }),
  );
  return results.every(Boolean);
}

export function readNetwork(file: string): NetworkInfo | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return parseNetworkFile(readFileSync(file, "utf8"), file);
  } catch {
    return undefined;
  }
}

/** The command `npm run devnet` runs (package.json), as argv for a direct, signal-able child. */
export function devnetCommand(repoRoot: string, port: number, dataDir: string): string[] {
  return [
    process.execPath,
    ...memory64Flags(process.version),
    "--import",
    "tsx",
    join(repoRoot, "devnet", "cli.ts"),
    "--port",
    String(port),
    "--data",
    dataDir,
  ];
}

export interface EnsureNetworkOptions {
  repoRoot: string;
  dataDir: string;
  port?: number;
  timeoutMs?: number;
  log?: (line: string) => void;
}

export interface NetworkHandle {
  info: NetworkInfo;
  /** PID of the network this call started, or undefined when one was already running. */
  startedPid?: number;
}

/** Reuses a running local network or starts one (detached: it outlives this command). */
export async function ensureNetwork(opts: EnsureNetworkOptions): Promise<NetworkHandle> {
  const log = opts.log ?? ((l) => console.error(l));
  const networkFile = join(opts.dataDir, "network.json");
  const current = readNetwork(networkFile);
  if (current && (await networkAnswers(current))) {
    log(`local AO network already running at ${current.urls.cu}`);
    return { info: current };
  }

  mkdirSync(opts.dataDir, { recursive: true });
  const logFile = join(opts.dataDir, "devnet.log");
  const out = openSync(logFile, "a");
  const since = Date.now();
  const [cmd, ...args] = devnetCommand(opts.repoRoot, opts.port ?? DEFAULT_PORT, opts.dataDir);
  const child: ChildProcess = spawn(cmd!, args, {
    cwd: opts.repoRoot,
    detached: true,
    stdio: ["ignore", out, out],
  });
  let exited: number | null | undefined;
  child.on("exit", (code) => {
    exited = code;
  });
  child.unref();
  writeFileSync(join(opts.dataDir, "devnet.pid"), `${child.pid}\n`);
  log(`starting the local AO network (pid ${child.pid}, log ${logFile})…`);

  const deadline = Date.now() + (opts.timeoutMs ?? 90_000);
  while (Date.now() < deadline) {
    if (exited !== undefined) {
      const tail = existsSync(logFile) ? readFileSync(logFile, "utf8").split("\n").slice(-15).join("\n") : "";
      throw new Error(
        `the local AO network exited (code ${exited}) before it was ready; ${logFile}:\n${tail}`,
      );
    }
    const fresh = existsSync(networkFile) && statSync(networkFile).mtimeMs >= since - 1000;
    const info = fresh ? readNetwork(networkFile) : undefined;
    if (info && (await networkAnswers(info))) {
      log(`local AO network ready at ${info.urls.cu} (stop it with: kill ${child.pid})`);
      return { info, startedPid: child.pid };
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(
    `the local AO network did not become ready within ${(opts.timeoutMs ?? 90_000) / 1000} s; see ${logFile}`,
  );
}

/** Creates the dev wallet when missing (mode 0600, written atomically); returns its address. */
export function ensureDevWallet(file: string, log: (line: string) => void = (l) => console.error(l)): string {
  if (!existsSync(file)) {
    createWallet(file);
    log(`created the dev wallet ${file} (never commit it; it is ignored by git)`);
  }
  const jwk = JSON.parse(readFileSync(file, "utf8")) as { n?: string };
  if (typeof jwk.n !== "string")
    throw new Error(`${file} is not an Arweave wallet (JWK); delete it to create a new one`);
  return addressOf(jwk.n);
}

export interface DeployFlags {
  localEngine: boolean;
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

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** The command line, checked. Pure. */
export function parseDeployArgs(argv: string[]): DeployFlags {
  const { values, tokens } = parseArgs({
    args: argv,
    strict: false,
    tokens: true,
    options: {
      "local-engine": { type: "boolean" },
      "network-file": { type: "string" },
      wallet: { type: "string" },
      github: { type: "string" },
      adopt: { type: "string" },
      config: { type: "string", multiple: true },
      state: { type: "string" },
      json: { type: "boolean" },
      preview: { type: "boolean" },
      verbose: { type: "boolean" },
    },
  });
  const known = new Set([
    "local-engine",
    "network-file",
    "wallet",
    "github",
    "adopt",
    "config",
    "state",
    "json",
    "preview",
    "verbose",
  ]);
  const passthrough: string[] = [];
  for (const t of tokens ?? []) {
    if (t.kind === "option" && !known.has(t.name))
      passthrough.push(t.rawName, ...(t.value !== undefined ? [t.value] : []));
    else if (t.kind === "positional") passthrough.push(t.value);
  }
  for (const k of ["network-file", "wallet", "github", "adopt", "state"] as const) {
    if (values[k] !== undefined && typeof values[k] !== "string")
      throw new UsageError(`--${k} needs a value: --${k}=<value>`);
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
  const str = (v: unknown) => (typeof v === "string" ? v : undefined);
  return {
    localEngine: values["local-engine"] === true,
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

/** The local engine: `pulumi up` on a local file state, with Pulumi's dynamic-provider host. */
async function deployLocally(
  flags: DeployFlags,
  env: Record<string, string | undefined>,
  repoRoot: string,
  log: (line: string) => void,
): Promise<Record<string, unknown>> {
  if (flags.passthrough.length) {
    throw new UsageError(
      `${flags.passthrough.join(" ")}: not an option of the local engine (options: --preview, --json, --state, --network-file, --wallet, --adopt, --config, --github, --verbose)`,
    );
  }
  const paths = devPaths(repoRoot);
  let networkFile = paths.networkFile;
  if (flags.networkFile) {
    networkFile = resolve(flags.networkFile);
    const info = readNetwork(networkFile);
    if (info && !(await networkAnswers(info))) {
      throw new UsageError(
        `the local AO network of ${networkFile} does not answer at ${info.urls.mu}: start it (npm run devnet -- --data ${dirname(networkFile)}), or leave out --network-file and deploy:dev starts one`,
      );
    }
  } else if (!flags.preview) {
    await ensureNetwork({ repoRoot, dataDir: paths.dataDir, log });
  }

  // The wallet: --wallet, else the user's AO_WALLET_JWK / AO_WALLET_FILE, else the dev wallet.
  const hostEnv: Record<string, string | undefined> = { ...env };
  if (flags.wallet) {
    hostEnv.AO_WALLET_FILE = resolve(flags.wallet);
    delete hostEnv.AO_WALLET_JWK;
  } else if (!env.AO_WALLET_JWK && !env.AO_WALLET_FILE) {
    hostEnv.AO_WALLET_FILE = paths.wallet;
    if (!flags.preview) log(`dev wallet ${ensureDevWallet(paths.wallet, log)}`);
  }

  const key = (k: string) => `${PROJECT}:${k}`;
  const config = stackConfig(repoRoot, DEV_STACK, {
    ...Object.fromEntries(Object.entries(flags.config).map(([k, v]) => [key(k), v])),
    [key("networkFile")]: networkFile,
    [key("adoptProcessId")]: flags.adopt,
    [key("githubOwner")]: flags.github?.owner,
    [key("githubRepository")]: flags.github?.repository,
  });
  // The program only checks that a token exists; nothing is sent to GitHub from here.
  const programEnv: Record<string, string | undefined> = {
    GITHUB_TOKEN: env.GITHUB_TOKEN || (flags.github ? "local-engine-no-github-call" : undefined),
  };
  const result = await up({
    repoRoot,
    project: PROJECT,
    stack: DEV_STACK,
    config,
    programEnv,
    hostEnv,
    stateDir: flags.state ? resolve(flags.state) : devEngineStateDir(repoRoot),
    preview: flags.preview,
    verbose: flags.verbose,
    log,
  });
  return result.outputs;
}

/** With the Pulumi CLI: `pulumi up` (or `preview`) on the dev stack's local file state. */
function deployWithCli(
  cli: PulumiCli,
  flags: DeployFlags,
  env: Record<string, string | undefined>,
  repoRoot: string,
): number {
  const localOnly: string[] = [
    ...(["networkFile", "wallet", "github", "adopt", "state"] as const).filter((k) => flags[k]),
    ...(Object.keys(flags.config).length ? ["config"] : []),
  ];
  if (localOnly.length) {
    throw new UsageError(
      `${localOnly.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(", ")}: options of the local engine; add --local-engine, or with the Pulumi CLI set the stack's config (Pulumi.dev.yaml)`,
    );
  }
  const stackEnv = devStackEnv(repoRoot, env) as NodeJS.ProcessEnv;
  mkdirSync(devPaths(repoRoot).stateDir, { recursive: true });
  // With --json, everything pulumi prints goes to stderr: stdout carries the outputs only.
  const stdio: ("inherit" | number)[] = flags.json ? ["inherit", 2, 2] : ["inherit", "inherit", "inherit"];
  const run = (args: string[]) => spawnSync(cli.command, args, { cwd: repoRoot, env: stackEnv, stdio });
  const select = run(["stack", "select", "--create", DEV_STACK]);
  if (select.status !== 0) return select.status ?? 1;
  const verb = flags.preview ? ["preview"] : ["up", "--yes"];
  const upRun = run([...verb, "--stack", DEV_STACK, ...flags.passthrough]);
  if (upRun.status !== 0) return upRun.status ?? 1;
  if (flags.json) {
    const out = spawnSync(cli.command, ["stack", "output", "--json", "--stack", DEV_STACK], {
      cwd: repoRoot,
      env: stackEnv,
      stdio: ["ignore", "inherit", "inherit"],
    });
    return out.status ?? 1;
  }
  return 0;
}

export async function main(
  argv: string[],
  env: Record<string, string | undefined>,
  repoRoot: string,
  io: { stdout(text: string): void; stderr(line: string): void } = {
    stdout: (t) => process.stdout.write(t),
    stderr: (l) => console.error(l),
  },
): Promise<number> {
  let flags: DeployFlags | undefined;
  let withoutCli = true;
  try {
    flags = parseDeployArgs(argv);
    const stateDir = flags.state ? resolve(flags.state) : devEngineStateDir(repoRoot);
    if (!flags.localEngine) {
      const found = findPulumiCli(env, repoRoot);
      if ("cli" in found) {
        withoutCli = false;
        io.stderr(`pulumi ${found.cli.version} (${found.cli.source}: ${found.cli.command})`);
        const address = flags.preview ? undefined : ensureDevWallet(devPaths(repoRoot).wallet, io.stderr);
        if (address) io.stderr(`dev wallet ${address}`);
        if (!flags.preview)
          await ensureNetwork({ repoRoot, dataDir: devPaths(repoRoot).dataDir, log: io.stderr });
        return deployWithCli(found.cli, flags, env, repoRoot);
      }
      const why = missingPulumiMessage(found.tried).split("\n")[0]!.replace(/\.$/, "");
      io.stderr(
        `${why}; deploying with the local engine instead (Pulumi's dynamic-provider host, state in ${stateDir}).`,
      );
    } else {
      io.stderr(`Deploying with the local engine (Pulumi's dynamic-provider host, state in ${stateDir}).`);
    }
    const outputs = await deployLocally(flags, env, repoRoot, io.stderr);
    if (flags.json) io.stdout(`${JSON.stringify(outputs, null, 2)}\n`);
    else if (!flags.preview)
      io.stderr("\nDeployed. For a CLI build against the local network: npm run outputs -- --stack dev");
    return 0;
  } catch (e) {
    io.stderr(formatFailure(e, { verbose: flags?.verbose ?? argv.includes("--verbose"), withoutCli }));
    return 1;
  }
}

if (require.main === module) {
  // Exit through process.exit so that the provider host and the program end with this command.
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => process.exit(130));
  main(process.argv.slice(2), process.env, join(__dirname, "..")).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}

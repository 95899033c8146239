/**
 * `npm run deploy:dev [-- flags]`: the main job, deploying the registry to the local AO network.
 *
 * 1. Starts the local AO network when .devnet-data/network.json does not describe one that answers
 *    (scripts/lib/localNetwork.ts: on --port, else the port it recorded, else 4000, else a free one).
 * 2. Creates the dev wallet .devnet-data/dev-wallet.json (ignored by git) when there is none, and checks
 *    the wallet the run will sign with before anything else (scripts/lib/devWallet.ts).
 * 3. With a Pulumi CLI that runs (PATH, ~/.pulumi/bin, or the official `pulumi` npm launcher):
 *    `pulumi stack select --create dev`, then `pulumi up --stack dev --yes`, with local file state
 *    (.pulumi-state/) and the dev-only passphrase (scripts/lib/devStack.ts).
 *    Without one (or with --local-engine), says so in one line and runs the same program through the
 *    local engine (scripts/lib/engine/): `pulumi up` on the state .devnet-data/state/dev.json.
 *
 * Flags: scripts/lib/deployArgs.ts (DEPLOY_OPTIONS); the README's table lists them.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { PROJECT } from "../infra/config";
import { hasEnvWallet, WALLET_ENV_VARIABLES } from "../providers/wallet";
import { type DeployFlags, parseDeployArgs, UsageError } from "./lib/deployArgs";
import { DEV_STACK, devEngineStateDir, devPaths, devStackEnv } from "./lib/devStack";
import { checkWalletFlag, ensureDevWallet } from "./lib/devWallet";
import { formatFailure } from "./lib/engine/messages";
import { up } from "./lib/engine/runner";
import { stackConfig } from "./lib/engine/stackConfig";
import { localStackOutputs } from "./lib/engine/stackOutputs";
import { ensureNetwork, networkAnswers, readNetwork, recordedPort, startCommand } from "./lib/localNetwork";
import { findPulumiCli, missingPulumiMessage, type PulumiCli } from "./lib/pulumiCli";
import { interruptedMessage, replacementSummary } from "./lib/runSummary";

/** The previous outputs of the dev stack (empty before its first deploy). */
type Outputs = Record<string, unknown>;

/**
 * Checks what the run will use before anything runs: the network file named by --network-file (it must
 * exist and answer), and the wallet file named by --wallet. One line each, naming the option and the fix.
 */
async function checkInputs(flags: DeployFlags): Promise<void> {
  if (flags.wallet) checkWalletFlag(resolve(flags.wallet));
  if (flags.networkFile) {
    const file = resolve(flags.networkFile);
    if (!existsSync(file))
      throw new UsageError(
        `--network-file ${flags.networkFile}: no such file; start a network that writes it (${startCommand(dirname(file), undefined)}), or leave out --network-file and deploy:dev starts one`,
      );
    const info = readNetwork(file);
    if (!info)
      throw new UsageError(
        `--network-file ${flags.networkFile}: not a network.json that npm run devnet writes; name the one under its --data directory`,
      );
    if (!flags.preview && !(await networkAnswers(info)))
      throw new UsageError(
        `the local AO network of ${file} does not answer at ${info.urls.cu}: start it (${startCommand(dirname(file), recordedPort(info))}), or leave out --network-file and deploy:dev starts one`,
      );
  }
}

/** The local engine: `pulumi up` on a local file state, with Pulumi's dynamic-provider host. */
async function deployLocally(
  flags: DeployFlags,
  env: Record<string, string | undefined>,
  repoRoot: string,
  stateDir: string,
  log: (line: string) => void,
): Promise<Outputs> {
  if (flags.passthrough.length) {
    throw new UsageError(
      `${flags.passthrough.join(" ")}: not an option of the local engine (options: --preview, --json, --port, --state, --network-file, --wallet, --adopt, --config, --github, --verbose)`,
    );
  }
  const paths = devPaths(repoRoot);
  const networkFile = flags.networkFile ? resolve(flags.networkFile) : paths.networkFile;
  if (!flags.networkFile && !flags.preview)
    await ensureNetwork({ repoRoot, dataDir: paths.dataDir, port: flags.port, log });

  // The wallet: --wallet, else the user's AO_WALLET_JWK / ARWEAVE_WALLET_JWK / AO_WALLET_FILE, else the
  // dev wallet. --wallet clears the others: a JSON variable would outrank the file it names.
  const hostEnv: Record<string, string | undefined> = { ...env };
  if (flags.wallet) {
    for (const name of WALLET_ENV_VARIABLES) delete hostEnv[name];
    hostEnv.AO_WALLET_FILE = resolve(flags.wallet);
  } else if (!hasEnvWallet(env)) {
    hostEnv.AO_WALLET_FILE = paths.wallet;
    if (!flags.preview) log(`dev wallet ${ensureDevWallet(paths.wallet, stateDir, log)}`);
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
    stateDir,
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

/** The dev stack's outputs as the local engine recorded them in `stateDir` (empty when none). */
function recordedOutputs(stateDir: string): Outputs {
  try {
    return JSON.parse(localStackOutputs(stateDir, PROJECT, DEV_STACK) ?? "{}") as Outputs;
  } catch {
    return {};
  }
}

export interface Io {
  stdout(text: string): void;
  stderr(line: string): void;
  /** Called once the run knows which process the stack named before it: what Ctrl-C reports on. */
  onPrevious?(outputs: Outputs): void;
}

export async function main(
  argv: string[],
  env: Record<string, string | undefined>,
  repoRoot: string,
  io: Io = {
    stdout: (t) => process.stdout.write(t),
    stderr: (l) => console.error(l),
  },
): Promise<number> {
  let flags: DeployFlags | undefined;
  let withoutCli = true;
  try {
    flags = parseDeployArgs(argv);
    const stateDir = flags.state ? resolve(flags.state) : devEngineStateDir(repoRoot);
    await checkInputs(flags);
    if (!flags.localEngine) {
      const found = findPulumiCli(env, repoRoot);
      if ("cli" in found) {
        withoutCli = false;
        io.stderr(`pulumi ${found.cli.version} (${found.cli.source}: ${found.cli.command})`);
        const paths = devPaths(repoRoot);
        const address = flags.preview ? undefined : ensureDevWallet(paths.wallet, paths.stateDir, io.stderr);
        if (address) io.stderr(`dev wallet ${address}`);
        if (!flags.preview)
          await ensureNetwork({ repoRoot, dataDir: paths.dataDir, port: flags.port, log: io.stderr });
        return deployWithCli(found.cli, flags, env, repoRoot);
      }
      const why = missingPulumiMessage(found.tried).split("\n")[0]!.replace(/\.$/, "");
      io.stderr(
        `${why}; deploying with the local engine instead (Pulumi's dynamic-provider host, state in ${stateDir}).`,
      );
    } else {
      io.stderr(`Deploying with the local engine (Pulumi's dynamic-provider host, state in ${stateDir}).`);
    }
    const before = recordedOutputs(stateDir);
    io.onPrevious?.(before);
    const outputs = await deployLocally(flags, env, repoRoot, stateDir, io.stderr);
    if (flags.json) io.stdout(`${JSON.stringify(outputs, null, 2)}\n`);
    if (!flags.preview) {
      const summary = replacementSummary(before, outputs);
      if (summary) io.stderr(`\n${summary}`);
      if (!flags.json)
        io.stderr("\nDeployed. For a CLI build against the local network: npm run outputs -- --stack dev");
    }
    return 0;
  } catch (e) {
    io.stderr(formatFailure(e, { verbose: flags?.verbose ?? argv.includes("--verbose"), withoutCli }));
    return 1;
  }
}

if (require.main === module) {
  let previous: Outputs = {};
  let interrupted = false;
  // Ctrl-C: say what the interrupted run leaves (a frozen registry refuses writes until a run finishes
  // the move) and what to run next, then exit through process.exit so that the provider host and the
  // program end with this command. The run itself then fails (its host was stopped too): that failure
  // is the interruption's, so it is neither printed nor allowed to exit first.
  for (const signal of ["SIGINT", "SIGTERM"] as const)
    process.on(signal, () => {
      if (interrupted) process.exit(130);
      interrupted = true;
      interruptedMessage(previous).then(
        (text) => {
          console.error(`\n${text}`);
          process.exit(130);
        },
        () => process.exit(130),
      );
    });
  main(process.argv.slice(2), process.env, join(__dirname, ".."), {
    stdout: (t) => process.stdout.write(t),
    stderr: (l) => {
      if (!interrupted) console.error(l);
    },
    onPrevious: (o) => {
      previous = o;
    },
  }).then(
    (code) => {
      if (!interrupted) process.exit(code);
    },
    (err: unknown) => {
      if (interrupted) return;
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}

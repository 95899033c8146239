/**
 * `npm run deploy:dev [-- <extra pulumi up flags>]`: the main job on the embedded default.
 *
 * 1. Finds a Pulumi CLI that runs (PATH, ~/.pulumi/bin, or the official `pulumi` npm launcher); without
 *    one it says how to install it and exits 1, before starting anything.
 * 2. Starts the local AO network when .devnet-data/network.json does not describe one that answers:
 *    `devnet/cli.ts` (what `npm run devnet` runs), detached, logging to .devnet-data/devnet.log, and
 *    waits until it has written a fresh network.json whose URLs answer.
 * 3. Creates the dev wallet .devnet-data/dev-wallet.json (ignored by git) when there is none.
 * 4. `pulumi stack select --create dev`, then `pulumi up --stack dev --yes`, with local file state
 *    (.pulumi-state/) and the dev-only passphrase (scripts/lib/devStack.ts).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type NetworkInfo, parseNetworkFile } from "../devnet/networkFile";
import { generateWallet } from "../devnet/wallet";
import { addressOf } from "../providers/wallet";
import { DEV_STACK, devPaths, devStackEnv } from "./lib/devStack";
import { memory64Flags } from "./lib/nodeVersions.cjs";
import { findPulumiCli, missingPulumiMessage } from "./lib/pulumiCli";

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

function readNetwork(file: string): NetworkInfo | undefined {
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
    mkdirSync(join(file, ".."), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(generateWallet()), { mode: 0o600 });
    renameSync(tmp, file);
    log(`created the dev wallet ${file} (never commit it; it is ignored by git)`);
  }
  const jwk = JSON.parse(readFileSync(file, "utf8")) as { n?: string };
  if (typeof jwk.n !== "string")
    throw new Error(`${file} is not an Arweave wallet (JWK); delete it to create a new one`);
  return addressOf(jwk.n);
}

export async function main(
  argv: string[],
  env: Record<string, string | undefined>,
  repoRoot: string,
): Promise<number> {
  const found = findPulumiCli(env, repoRoot);
  if (!("cli" in found)) {
    console.error(missingPulumiMessage(found.tried));
    return 1;
  }
  const { cli } = found;
  console.error(`pulumi ${cli.version} (${cli.source}: ${cli.command})`);

  const paths = devPaths(repoRoot);
  await ensureNetwork({ repoRoot, dataDir: paths.dataDir });
  const address = ensureDevWallet(paths.wallet);
  console.error(`dev wallet ${address}`);

  const stackEnv = devStackEnv(repoRoot, env) as NodeJS.ProcessEnv;
  mkdirSync(paths.stateDir, { recursive: true });
  const run = (args: string[]) =>
    spawnSync(cli.command, args, { cwd: repoRoot, env: stackEnv, stdio: "inherit" });

  const select = run(["stack", "select", "--create", DEV_STACK]);
  if (select.status !== 0) return select.status ?? 1;
  const up = run(["up", "--stack", DEV_STACK, "--yes", ...argv]);
  if (up.status !== 0) return up.status ?? 1;
  console.error("\nDeployed. For a CLI build against the local network: npm run outputs -- --stack dev");
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2), process.env, join(__dirname, "..")).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exitCode = 1;
    },
  );
}

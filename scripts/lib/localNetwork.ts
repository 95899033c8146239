/**
 * The local AO network as `npm run deploy:dev` uses it: reuse the one this data directory describes when
 * it answers, else start it detached (`devnet/cli.ts`, what `npm run devnet` runs) on a port chosen by
 * `choosePort` and wait until it has written a fresh network.json whose URLs answer.
 *
 * The port is part of the stack's endpoints, so it must not wander: an explicit `--port` wins, then the
 * port the data directory's network.json recorded (a stopped network restarts where it was), then 4000.
 * Only a port the user did not ask for is swapped for a free one when taken (said in one line); an
 * explicit one that is taken fails in one line naming an option deploy:dev accepts.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, openSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join, relative } from "node:path";
import { type NetworkInfo, parseNetworkFile } from "../../devnet/networkFile";
import { memory64Flags } from "../../devnet/nodeVersions.cjs";

export const DEFAULT_PORT = 4000;
export const LOOPBACK = "127.0.0.1";

/** The origins a network file names (one for this project's networks). */
function originsOf(info: NetworkInfo): string[] {
  const urls = [info.urls.mu, info.urls.cu, info.urls.gateway, ...(info.urls.node ? [info.urls.node] : [])];
  return [...new Set(urls.map((u) => new URL(u).origin))];
}

/** Whether every unit the network file names answers HTTP (any status: the server is up). */
export async function networkAnswers(info: NetworkInfo, timeoutMs = 2000): Promise<boolean> {
  const results = await Promise.all(
    originsOf(info).map(async (origin) => {
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

/** The network file's description, or undefined when it is absent or unreadable. */
export function readNetwork(file: string): NetworkInfo | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return parseNetworkFile(readFileSync(file, "utf8"), file);
  } catch {
    return undefined;
  }
}

/** The port a network file recorded (its compute unit's), if it names one. Pure. */
export function recordedPort(info: NetworkInfo | undefined): number | undefined {
  if (!info) return undefined;
  const url = new URL(info.urls.cu);
  return url.port ? Number(url.port) : undefined;
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

/** A data directory as a user would type it in a command: relative below the working directory. */
export function shownDir(dir: string, cwd = process.cwd()): string {
  const rel = relative(cwd, dir);
  return rel && !rel.startsWith("..") ? rel : dir;
}

/** The command that starts this data directory's network again on its port. Pure. */
export function startCommand(dataDir: string, port: number | undefined): string {
  return `npm run devnet -- --data ${shownDir(dataDir)}${port === undefined ? "" : ` --port ${port}`}`;
}

export type PortChoice =
  | { port: number; why: "asked" | "recorded" | "default" }
  | { port: 0; why: "taken"; taken: number };

/**
 * Which port to start the network on. Pure: `free` says whether a port can be listened on now.
 * A port the user asked for is never swapped: a taken one is an error (UsageError from the caller).
 */
export function choosePort(opts: {
  asked?: number;
  recorded?: number;
  free: (port: number) => boolean;
}): PortChoice | { taken: number; asked: true } {
  if (opts.asked !== undefined)
    return opts.asked === 0 || opts.free(opts.asked)
      ? { port: opts.asked, why: "asked" }
      : { taken: opts.asked, asked: true };
  const port = opts.recorded ?? DEFAULT_PORT;
  if (opts.free(port)) return { port, why: opts.recorded === undefined ? "default" : "recorded" };
  return { port: 0, why: "taken", taken: port };
}

/** Whether `port` on the loopback address can be listened on right now. */
export function portIsFree(port: number, host = LOOPBACK): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A port in use (by another program): the one-line error, with options deploy:dev accepts. Pure. */
export function portTakenMessage(port: number): string {
  return `port ${port} on ${LOOPBACK} is in use by another program: run again with --port <another port> (e.g. --port ${port + 1}), or leave out --port and deploy:dev picks a free one`;
}

export class NetworkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NetworkError";
  }
}

export interface EnsureNetworkOptions {
  repoRoot: string;
  dataDir: string;
  /** The port asked for (`--port`); otherwise the recorded one, else 4000, else any free one. */
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
  const recorded = recordedPort(current);
  if (current && (await networkAnswers(current))) {
    if (opts.port !== undefined && opts.port !== 0 && opts.port !== recorded) {
      throw new NetworkError(
        `--port ${opts.port}: the local AO network of ${shownDir(opts.dataDir)} already runs on port ${recorded}; leave out --port to use it, or stop it first${current.pid ? ` (kill ${current.pid})` : ""}`,
      );
    }
    log(`local AO network already running at ${current.urls.cu}`);
    return { info: current };
  }

  const frees = new Map<number, boolean>();
  for (const p of [opts.port, recorded ?? DEFAULT_PORT]) if (p) frees.set(p, await portIsFree(p));
  const choice = choosePort({ asked: opts.port, recorded, free: (p) => frees.get(p) ?? false });
  if ("asked" in choice) throw new NetworkError(portTakenMessage(choice.taken));

  mkdirSync(opts.dataDir, { recursive: true });
  const logFile = join(opts.dataDir, "devnet.log");
  const out = openSync(logFile, "a");
  const since = Date.now();
  const [cmd, ...args] = devnetCommand(opts.repoRoot, choice.port, opts.dataDir);
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
      throw new NetworkError(
        `the local AO network exited (code ${exited}) before it was ready; ${logFile}:\n${tail}`,
      );
    }
    const fresh = existsSync(networkFile) && statSync(networkFile).mtimeMs >= since - 1000;
    const info = fresh ? readNetwork(networkFile) : undefined;
    if (info && (await networkAnswers(info))) {
      if (choice.why === "taken")
        log(
          `port ${choice.taken} was in use by another program: the local AO network runs on port ${recordedPort(info)} instead (recorded in ${join(shownDir(opts.dataDir), "network.json")}, reused by later runs)`,
        );
      log(`local AO network ready at ${info.urls.cu} (stop it with: kill ${child.pid})`);
      return { info, startedPid: child.pid };
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new NetworkError(
    `the local AO network did not become ready within ${(opts.timeoutMs ?? 90_000) / 1000} s; see ${logFile}`,
  );
}

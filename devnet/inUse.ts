/**
 * Starting a local network where one already runs: on this data directory (two networks on one set of
 * journals would corrupt it), or on the port asked for. The errors say what holds it when it is this
 * project's own network (its pid, from the network.json it wrote), and what to do.
 */
import { existsSync, readFileSync } from "node:fs";
import { isAbsolute, join, relative } from "node:path";
import { type NetworkInfo, parseNetworkFile } from "./networkFile";

/** What answers on an address: a local network of this project answers `/info` with its scheduler. */
export type Holder =
  | { kind: "this data directory's network"; url: string; pid?: number }
  | { kind: "another network"; schedulerId: string }
  | { kind: "another program" };

/** The data directory as a user would type it: relative below the working directory, else absolute. */
function shown(dataDir: string): string {
  const rel = relative(process.cwd(), dataDir);
  return rel === "" ? "." : rel.startsWith("..") || isAbsolute(rel) ? dataDir : rel;
}

/** The one-line error for a data directory whose network runs already. Pure. */
export function alreadyRunningMessage(dataDir: string, running: { url: string; pid?: number }): string {
  const pid = running.pid === undefined ? "" : `, pid ${running.pid}`;
  const stop = running.pid === undefined ? "stop it first" : `stop it first (kill ${running.pid})`;
  return `the local AO network on ${shown(dataDir)} is already running (${running.url}${pid}): use it as it is (its URLs are in ${join(shown(dataDir), "network.json")}), or ${stop}`;
}

/** The one-line error for a port the network could not listen on. Pure. */
export function portInUseMessage(host: string, port: number, dataDir: string, holder: Holder): string {
  const where = `port ${port} on ${host}`;
  const elsewhere = `start this one on another port (--port ${port + 1}, or --port 0 for any free one)`;
  switch (holder.kind) {
    case "this data directory's network":
      return `${where} is in use: ${alreadyRunningMessage(dataDir, holder)}`;
    case "another network":
      return `${where} is in use by another local AO network of this project (scheduler ${holder.schedulerId}, not the one on ${shown(dataDir)}): stop it, or ${elsewhere}`;
    case "another program":
      return `${where} is in use by another program: ${elsewhere}`;
  }
}

/** Whether a process with this pid runs (signal 0 checks without sending anything). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** What this data directory's network.json says, through its one schema; nothing when absent or unreadable. */
function readNetworkFile(dataDir: string): NetworkInfo | undefined {
  const file = join(dataDir, "network.json");
  if (!existsSync(file)) return undefined;
  try {
    return parseNetworkFile(readFileSync(file, "utf8"), file);
  } catch {
    return undefined;
  }
}

/** What answers `origin`/info, where `schedulerId` is the scheduler of this data directory's network. */
export async function holderAt(origin: string, dataDir: string, schedulerId: string): Promise<Holder> {
  let info: { schedulerId?: unknown; urls?: unknown } | undefined;
  try {
    const res = await fetch(`${origin}/info`, { signal: AbortSignal.timeout(2000) });
    info = res.ok ? ((await res.json()) as typeof info) : undefined;
  } catch {
    info = undefined;
  }
  if (typeof info?.schedulerId !== "string" || typeof info.urls !== "object")
    return { kind: "another program" };
  if (info.schedulerId !== schedulerId) return { kind: "another network", schedulerId: info.schedulerId };
  const pid = readNetworkFile(dataDir)?.pid;
  return typeof pid === "number" && alive(pid)
    ? { kind: "this data directory's network", url: origin, pid }
    : { kind: "this data directory's network", url: origin };
}

/** The network that runs on this data directory now, if any: the one its network.json names answers as it. */
export async function runningOn(
  dataDir: string,
  schedulerId: string,
): Promise<{ url: string; pid?: number } | undefined> {
  const cu = readNetworkFile(dataDir)?.urls.cu;
  if (cu === undefined) return undefined;
  let origin: string;
  try {
    origin = new URL(cu).origin;
  } catch {
    return undefined;
  }
  const holder = await holderAt(origin, dataDir, schedulerId);
  return holder.kind === "this data directory's network" ? holder : undefined;
}

/** The listen error to throw: for a port in use, what holds it; any other error as it is. */
export async function explainListenError(
  err: unknown,
  at: { host: string; port: number; dataDir: string; schedulerId: string },
): Promise<unknown> {
  if ((err as NodeJS.ErrnoException | undefined)?.code !== "EADDRINUSE") return err;
  const origin = `http://${at.host.includes(":") ? `[${at.host}]` : at.host}:${at.port}`;
  return new Error(
    portInUseMessage(at.host, at.port, at.dataDir, await holderAt(origin, at.dataDir, at.schedulerId)),
  );
}

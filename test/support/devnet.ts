import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Devnet, type DevnetOptions, type NetworkInfo, startDevnet } from "../../devnet";
import { memory64Flags } from "../../devnet/nodeVersions.cjs";
import type { Jwk } from "../../providers/wallet";

export type { Devnet };

/** A fresh data directory under the system temp dir. */
export function tempDataDir(prefix = "devnet-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * Starts a local network on a free port in a fresh (or given) data directory. Its cleanup fails if any
 * message or dry-run ran past the compute deadline, unless the test expects it: a test whose messages
 * hit the deadline passes only by timing.
 */
export async function withDevnet(
  opts: Partial<DevnetOptions> = {},
  { expectDeadlineHits = false } = {},
): Promise<Devnet & { cleanup(): Promise<void> }> {
  const dataDir = opts.dataDir ?? tempDataDir();
  const net = await startDevnet({ port: 0, ...opts, dataDir });
  return {
    ...net,
    async cleanup() {
      const hits = net.deadlineHits();
      await net.stop();
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
      if (hits.length > 0 && !expectDeadlineHits)
        throw new Error(`evaluations ran past the compute deadline: ${JSON.stringify(hits)}`);
    },
  };
}

/** The unmodified aoconnect client pointed at a local network, signing with `jwk`. */
export function aoClient(net: Pick<Devnet, "urls">, jwk: Jwk) {
  const ao = require("@permaweb/aoconnect") as typeof import("@permaweb/aoconnect");
  const client = ao.connect({
    MODE: "legacy",
    MU_URL: net.urls.mu,
    CU_URL: net.urls.cu,
    GATEWAY_URL: net.urls.gateway,
  });
  const signer = ao.createDataItemSigner(jwk);
  /** The message ID (aoconnect's typings also allow a slot object, which legacy mode never returns). */
  const message = async (args: Parameters<typeof client.message>[0]): Promise<string> => {
    const r = await client.message(args);
    return typeof r === "string" ? r : r.id;
  };
  /** Sends a message signed by this wallet and waits for its result. */
  const send = async (process: string, tags: { name: string; value: string }[], data?: string) =>
    client.result({
      process,
      message: await message({ process, signer, tags, ...(data === undefined ? {} : { data }) }),
    });
  return {
    ...client,
    message,
    send,
    signer,
    /** Spawns a process of the network's module, Evals `code` into it, and returns its ID. */
    async spawnWithCode(
      net2: Pick<Devnet, "moduleId" | "schedulerId">,
      code: string,
      tags: { name: string; value: string }[] = [],
    ): Promise<string> {
      const pid = await client.spawn({ module: net2.moduleId, scheduler: net2.schedulerId, signer, tags });
      const r = await send(pid, [{ name: "Action", value: "Eval" }], code);
      if (r.Error) throw new Error(`Eval failed: ${String(r.Error)}`);
      return pid;
    },
  };
}

/** A GraphQL query to the network's gateway; returns `data`. */
export async function graphql<T>(
  net: Pick<Devnet, "urls">,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<T> {
  const res = await fetch(`${net.urls.gateway}/graphql`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data: T; errors?: unknown };
  if (body.errors) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
  return body.data;
}

/**
 * How to run the network's own CLI (`npm run devnet`) on `dataDir` with this Node.js: its arguments.
 * `nodeArgs` go to Node.js itself (e.g. `--require` of a test's preload).
 */
export function devnetCliArgs(dataDir: string, args: string[] = [], nodeArgs: string[] = []): string[] {
  return [
    ...memory64Flags(process.version),
    ...nodeArgs,
    "--import",
    "tsx",
    join(__dirname, "../../devnet/cli.ts"),
    "--port",
    "0",
    "--data",
    dataDir,
    ...args,
  ];
}

/**
 * The network's own CLI (`npm run devnet`) in a child process, so that it can be killed with SIGKILL.
 * Resolves once it prints its URLs, with what its `/info` says.
 */
export async function startDevnetProcess(
  dataDir: string,
  args: string[] = [],
  opts: { nodeArgs?: string[]; env?: Record<string, string> } = {},
): Promise<NetworkInfo & { child: ChildProcess; stop(): Promise<void> }> {
  const child = spawn(process.execPath, devnetCliArgs(dataDir, args, opts.nodeArgs), {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...opts.env },
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /messenger\s+(http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.on("exit", (code) => reject(new Error(`devnet exited with ${code} before it was ready: ${out}`)));
  });
  const info = (await (await fetch(`${url}/info`)).json()) as NetworkInfo;
  return {
    ...info,
    child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Devnet, type DevnetOptions, startDevnet } from "../../devnet";
import type { Jwk } from "../../devnet/wallet";

export type { Devnet };

/** A fresh data directory under the system temp dir. */
export function tempDataDir(prefix = "devnet-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Starts a local network on a free port in a fresh (or given) data directory. */
export async function withDevnet(
  opts: Partial<DevnetOptions> = {},
): Promise<Devnet & { cleanup(): Promise<void> }> {
  const dataDir = opts.dataDir ?? tempDataDir();
  const net = await startDevnet({ port: 0, ...opts, dataDir });
  return {
    ...net,
    async cleanup() {
      await net.stop();
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
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

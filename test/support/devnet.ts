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
  return {
    ...client,
    /** The message ID (aoconnect's typings also allow a slot object, which legacy mode never returns). */
    message: async (args: Parameters<typeof client.message>[0]): Promise<string> => {
      const r = await client.message(args);
      return typeof r === "string" ? r : r.id;
    },
    signer: ao.createDataItemSigner(jwk),
  };
}

/**
 * The AO client the provider drives: the only adapter that talks to AO. The pipeline steps depend on
 * this interface alone; `createAoClient` (aoconnect, legacy mode) is the real implementation.
 */

import { DEPLOYMENT_ID_TAG, legacyUnits } from "./aoValues";
import { namedError } from "./errors";
import type { Endpoints, Tag } from "./types";
import { type Jwk, walletAddress } from "./wallet";

export interface AoMessage {
  Tags?: Tag[];
  Data?: unknown;
  Target?: string;
  Anchor?: string;
}

/** What a CU returns for a message or a dry-run. */
export interface AoResult {
  Messages?: AoMessage[];
  Spawns?: unknown[];
  Output?: unknown;
  Error?: unknown;
}

export interface AoClient {
  /** Spawns a process; resolves with its ID. Each call signs a new data item (a new process). */
  spawn(args: { module: string; scheduler: string; tags: Tag[]; data?: string }): Promise<string>;
  /** Sends a signed message; resolves with its ID. */
  message(args: { process: string; tags: Tag[]; data?: string }): Promise<string>;
  /** Reads a message's result from the CU. */
  result(args: { process: string; message: string }): Promise<AoResult>;
  /** Evaluates a message without persisting it (no signature needed). */
  dryrun(args: { process: string; tags: Tag[]; data?: string; owner?: string }): Promise<AoResult>;
  /** Looks a spawn up by its `Deployment-Id` tag through the gateway's GraphQL; undefined if none. */
  findByDeploymentId(deploymentId: string, owner: string): Promise<string | undefined>;
}

/** An HTTP failure with its status, so the retry helper can classify it. */
export const httpStatusError = (status: number, message: string) =>
  namedError("HttpStatusError", message, { status });

type Signer = ReturnType<typeof import("@permaweb/aoconnect").createDataItemSigner>;
const signers = new Map<string, Signer>();

/**
 * One signer per wallet for the life of the provider's process (a deploy): aoconnect throws
 * CRYPTO_RATE_LIMIT_EXCEEDED at the 101st signer made for one key within a minute, and a move sends
 * a message per page.
 */
export function signerFor(wallet: Jwk, create: (jwk: Jwk) => Signer): Signer {
  const address = walletAddress(wallet);
  let signer = signers.get(address);
  if (!signer) {
    signer = create(wallet);
    signers.set(address, signer);
  }
  return signer;
}

/** aoconnect's legacy `message` answers the ID, some versions `{ id }`. */
const idOf = (sent: unknown): string =>
  typeof sent === "string" ? sent : String((sent as { id?: unknown } | undefined)?.id ?? "");

/**
 * The real client over @permaweb/aoconnect, legacy mode (MU/CU/gateway). aoconnect is required here,
 * at call time (its CommonJS build), never at module top level: the provider closure must not capture
 * it. `wallet` may be undefined for read-only use (dry-runs and GraphQL need no signature).
 */
export function createAoClient(network: Endpoints, wallet: Jwk | undefined): AoClient {
  const endpoints = legacyUnits(network);
  const ao = require("@permaweb/aoconnect") as typeof import("@permaweb/aoconnect");
  const conn = ao.connect({
    MODE: "legacy",
    MU_URL: endpoints.mu,
    CU_URL: endpoints.cu,
    GATEWAY_URL: endpoints.gateway,
  });
  const signer = () => {
    if (!wallet)
      throw new Error(
        "this AO call needs the wallet (stack config secret <project>:wallet, AO_WALLET_JWK or AO_WALLET_FILE)",
      );
    return signerFor(wallet, ao.createDataItemSigner);
  };
  return {
    async spawn({ module, scheduler, tags, data }) {
      return conn.spawn({
        module,
        scheduler,
        signer: signer(),
        tags,
        ...(data !== undefined ? { data } : {}),
      });
    },
    async message({ process, tags, data }) {
      return idOf(
        await conn.message({ process, signer: signer(), tags, ...(data !== undefined ? { data } : {}) }),
      );
    },
    async result({ process, message }) {
      return (await conn.result({ process, message })) as AoResult;
    },
    async dryrun({ process, tags, data, owner }) {
      return (await conn.dryrun({
        process,
        tags,
        ...(data !== undefined ? { data } : {}),
        ...(owner ? { Owner: owner } : {}),
      })) as AoResult;
    },
    async findByDeploymentId(deploymentId, owner) {
      const url = `${endpoints.gateway.replace(/\/+$/, "")}/graphql`;
      const query = `query ($tags: [TagFilter!], $owners: [String!]) {
        transactions(tags: $tags, owners: $owners, first: 2) { edges { node { id } } }
      }`;
      const variables = {
        owners: [owner],
        tags: [
          { name: DEPLOYMENT_ID_TAG, values: [deploymentId] },
          { name: "Type", values: ["Process"] },
        ],
      };
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query, variables }),
      });
      if (!res.ok) throw httpStatusError(res.status, `GraphQL ${url} answered HTTP ${res.status}`);
      const body = (await res.json()) as {
        data?: { transactions?: { edges?: { node: { id: string } }[] } };
        errors?: { message: string }[];
      };
      if (body.errors?.length)
        throw new Error(`GraphQL ${url}: ${body.errors.map((e) => e.message).join("; ")}`);
      return body.data?.transactions?.edges?.[0]?.node.id;
    },
  };
}

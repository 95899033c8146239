/**
 * The AO client the provider drives: the only adapter that talks to AO. The pipeline steps depend on
 * this interface alone; `createAoClient` picks the real implementation for the endpoints' network:
 * aoconnect in legacy mode (MU/CU/gateway, here) or in mainnet mode (a HyperBEAM node, mainnetClient.ts).
 */

import { type AoClient, type AoResult, describeRef, type MessageSender } from "./aoApi";
import { type Aoconnect, aoconnect } from "./aoconnect";
import { httpStatusError, namedError, noWalletError } from "./errors";
import { createMainnetClient } from "./mainnetClient";
import { onceSigner } from "./signing";
import type { Endpoints, LegacyEndpoints } from "./types";
import type { Jwk } from "./wallet";

export type {
  AoClient,
  AoMessage,
  AoResult,
  MessageArgs,
  MessageRef,
  MessageSender,
  Sent,
  SignedOnce,
  SpawnArgs,
  Spawner,
} from "./aoApi";
export { describeRef } from "./aoApi";
export { httpStatusError } from "./errors";
export { signerFor } from "./signing";

/**
 * aoconnect's mainnet spawn reads these over its arguments (module, authority): a stray variable would
 * spawn a process the stack does not describe. The provider refuses to run with them set.
 */
export const OVERRIDING_ENV = ["MODULE", "AUTHORITY"] as const;

export function refuseOverridingEnv(env: Record<string, string | undefined> = process.env): void {
  const set = OVERRIDING_ENV.filter((k) => env[k] !== undefined && env[k] !== "");
  if (set.length)
    throw namedError(
      "OverridingEnvError",
      `${set.join(" and ")} ${set.length === 1 ? "is" : "are"} set in the environment: aoconnect's mainnet spawn ` +
        `would take ${set.length === 1 ? "it" : "them"} over the stack's ${set.map((k) => k.toLowerCase()).join(" and ")}. ` +
        `Unset ${set.join(" and ")} (e.g. \`env -u ${set.join(" -u ")} pulumi up\`); the stack config sets the module and the authority.`,
    );
}

export function createAoClient(endpoints: Endpoints, wallet: Jwk | undefined): AoClient {
  if (endpoints.network === "mainnet") {
    refuseOverridingEnv();
    return createMainnetClient(endpoints, wallet);
  }
  return createLegacyClient(endpoints, wallet);
}

/** Whether a failure says the process does not exist (yet). */
export const isNotFound = (err: unknown) =>
  /not found|not known|does not exist|unknown process|no process/i.test(
    String((err as Error)?.message ?? err),
  );

/** aoconnect's legacy `message` answers the ID, some versions `{ id }`. */
const idOf = (sent: unknown): string =>
  typeof sent === "string" ? sent : String((sent as { id?: unknown } | undefined)?.id ?? "");

/** What the provider uses of @permaweb/ao-scheduler-utils (aoconnect's own way to find a scheduler). */
interface SchedulerUtils {
  connect(args: { GRAPHQL_URL: string }): { raw(address: string): Promise<{ url: string }> };
}

/** The legacy network through aoconnect in legacy mode. `wallet` may be undefined for reads. */
function createLegacyClient(endpoints: LegacyEndpoints, wallet: Jwk | undefined): AoClient {
  const ao: Aoconnect = aoconnect();
  const conn = ao.connect({
    MODE: "legacy",
    MU_URL: endpoints.mu,
    CU_URL: endpoints.cu,
    GATEWAY_URL: endpoints.gateway,
  });
  const theWallet = () => {
    if (!wallet) throw noWalletError();
    return wallet;
  };
  const graphqlUrl = `${endpoints.gateway}/graphql`;
  let locations: ReturnType<SchedulerUtils["connect"]> | undefined;
  /**
   * Where the scheduler of a process listens: its spawn's Scheduler tag, then that scheduler's
   * Scheduler-Location record (ao-scheduler-utils `raw`), both through the gateway's GraphQL. Not
   * `locate`: 0.0.29 asks su-router.ao-testnet.xyz first, whatever the gateway.
   */
  async function schedulerOf(process: string): Promise<{ url: string }> {
    const res = await fetch(graphqlUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        query: "query($ids: [ID!]) { transactions(ids: $ids) { edges { node { tags { name value } } } } }",
        variables: { ids: [process] },
      }),
    });
    if (!res.ok) throw httpStatusError(res.status, `gateway ${graphqlUrl} answered HTTP ${res.status}`);
    const body = (await res.json()) as {
      data?: { transactions?: { edges?: { node?: { tags?: { name: string; value: string }[] } }[] } };
    };
    const tags = body.data?.transactions?.edges?.[0]?.node?.tags;
    const scheduler = tags?.find((t) => t.name === "Scheduler")?.value;
    if (!scheduler)
      throw new Error(`gateway ${graphqlUrl} does not know process ${process} or its Scheduler tag`);
    locations ??= (require("@permaweb/ao-scheduler-utils") as SchedulerUtils).connect({
      GRAPHQL_URL: graphqlUrl,
    });
    return locations.raw(scheduler);
  }
  /**
   * Whether the scheduler holds the message: AO's scheduler answers `GET /<message id>?process-id=<pid>`
   * with the message and its assignment, and 404 when it has none (permaweb/ao servers/su/src/main.rs
   * main_get_route).
   */
  async function scheduled(process: string, id: string): Promise<boolean> {
    const { url } = await schedulerOf(process);
    const at = `${url.replace(/\/+$/, "")}/${id}?process-id=${process}`;
    const res = await fetch(at);
    if (res.ok) return true;
    const text = (await res.text().catch(() => "")).slice(0, 500);
    if (res.status === 404) return false;
    throw httpStatusError(res.status, `scheduler ${url} answered HTTP ${res.status} to GET ${at}: ${text}`);
  }
  const client: AoClient = {
    spawner({ module, scheduler, authority, tags, data }) {
      const once = onceSigner(theWallet());
      return {
        signedId: once.signedId,
        async lookup() {
          // sendOnce asks only once the item is signed: its ID is the process's.
          const id = once.signedId()!;
          return (await processExists(id)) ? id : undefined;
        },
        send: () =>
          conn.spawn({
            module,
            scheduler,
            signer: once.signer,
            tags: [...(authority ? [{ name: "Authority", value: authority }] : []), ...tags],
            ...(data !== undefined ? { data } : {}),
          }),
      };
    },
    sender({ process, tags, data }): MessageSender {
      const once = onceSigner(theWallet());
      return {
        signedId: once.signedId,
        async lookup() {
          // sendOnce asks only once the item is signed.
          const id = once.signedId()!;
          return (await scheduled(process, id)) ? { id } : undefined;
        },
        async send() {
          const sent = await conn.message({
            process,
            signer: once.signer,
            tags,
            ...(data !== undefined ? { data } : {}),
          });
          return { id: idOf(sent) };
        },
      };
    },
    async result({ process, message }) {
      if (!("id" in message))
        throw new Error(`the legacy network reads results by message ID, not ${describeRef(message)}`);
      return (await conn.result({ process, message: message.id })) as AoResult;
    },
    async dryrun({ process, tags, data, owner }) {
      return (await conn.dryrun({
        process,
        tags,
        ...(data !== undefined ? { data } : {}),
        ...(owner ? { Owner: owner } : {}),
      })) as AoResult;
    },
  };

  async function processExists(process: string): Promise<boolean> {
    // aoconnect's legacy dry-run answers the compute unit's JSON whatever its status: an unknown
    // process is an `error` in it.
    let answer: AoResult & { error?: unknown };
    try {
      answer = await client.dryrun({ process, tags: [{ name: "Action", value: "Ping" }] });
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
    if (answer.error === undefined) return true;
    if (isNotFound(answer.error)) return false;
    throw new Error(
      `compute unit ${endpoints.cu} could not tell whether process ${process} exists: ${String(answer.error)}`,
    );
  }
  return client;
}

/**
 * The AO client the provider drives: the only adapter that talks to AO. The pipeline steps depend on
 * this interface alone; `createAoClient` picks the real implementation for the endpoints' network:
 * aoconnect in legacy mode (MU/CU/gateway, here) or in mainnet mode (a HyperBEAM node, mainnetClient.ts).
 */

import { type AoClient, type AoResult, describeRef } from "./aoApi";
import { type Aoconnect, aoconnect } from "./aoconnect";
import { namedError, noWalletError } from "./errors";
import { createMainnetClient } from "./mainnetClient";
import { onceSigner, signerFor } from "./signing";
import type { Endpoints, LegacyEndpoints } from "./types";
import type { Jwk } from "./wallet";

export type { AoClient, AoMessage, AoResult, MessageRef, SpawnArgs, Spawner } from "./aoApi";
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
  const client: AoClient = {
    spawner({ module, scheduler, authority, tags, data }) {
      const once = onceSigner(theWallet());
      return {
        signedId: once.signedId,
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
    async processExists(process) {
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
    },
    async message({ process, tags, data }) {
      const signer = signerFor(theWallet(), ao.createSigner);
      const sent = await conn.message({ process, signer, tags, ...(data !== undefined ? { data } : {}) });
      return { id: idOf(sent) };
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
  return client;
}

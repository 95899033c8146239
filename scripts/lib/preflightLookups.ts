/**
 * The preflight's lookups (scripts/preflight.ts), each read-only and unsigned, each answering a Lookup:
 * found, missing (asked, and not there), or failed (no answer). Bounded in time: a preflight must not
 * hang on an unreachable node or gateway.
 */
import type { Lookup } from "./preflightChecks";

const TIMEOUT_MS = 15_000;

async function get(url: string, init: RequestInit = {}): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS) });
  return { status: res.status, text: await res.text() };
}

const failure = (url: string, err: unknown) => {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  return { failed: `${url}: ${e.cause?.code ?? e.cause?.message ?? e.message}` };
};

/** GET <node>/~meta@1.0/info/address: the node's own address (permaweb/HyperBEAM dev_meta). */
export async function nodeAddress(node: string): Promise<Lookup<string>> {
  const url = `${node}/~meta@1.0/info/address`;
  try {
    const r = await get(url);
    const text = r.text.trim();
    if (r.status !== 200) return { failed: `GET ${url} answered HTTP ${r.status}: ${text.slice(0, 200)}` };
    if (!/^[A-Za-z0-9_-]{43}$/.test(text))
      return { failed: `GET ${url} answered ${JSON.stringify(text.slice(0, 80))}, not an address` };
    return { found: text };
  } catch (err) {
    return failure(url, err);
  }
}

/** A GraphQL query to the gateway; its `data`. */
async function graphql<T>(gateway: string, query: string, variables: Record<string, unknown>): Promise<T> {
  const url = `${gateway}/graphql`;
  const r = await get(url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ query, variables }),
  });
  if (r.status !== 200) throw new Error(`POST ${url} answered HTTP ${r.status}: ${r.text.slice(0, 200)}`);
  const body = JSON.parse(r.text) as { data?: T; errors?: { message?: string }[] };
  if (body.errors?.length) throw new Error(`POST ${url}: ${body.errors.map((e) => e.message).join("; ")}`);
  return body.data as T;
}

/**
 * The URL in a scheduler's Scheduler-Location record: what ao-scheduler-utils reads to find a scheduler
 * (`raw`), the way AO's units and aoconnect do.
 */
export async function schedulerLocation(gateway: string, scheduler: string): Promise<Lookup<string>> {
  try {
    const utils = require("@permaweb/ao-scheduler-utils") as {
      connect(a: { GRAPHQL_URL: string }): { raw(address: string): Promise<{ url: string } | undefined> };
    };
    const found = await utils.connect({ GRAPHQL_URL: `${gateway}/graphql` }).raw(scheduler);
    if (!found?.url) return { missing: `no Scheduler-Location record signed by ${scheduler}` };
    return { found: found.url };
  } catch (err) {
    const message = (err as Error).message;
    if (/not found|no .*scheduler-location|could not find/i.test(message))
      return { missing: `no Scheduler-Location record signed by ${scheduler} (${message})` };
    return failure(`${gateway}/graphql`, err);
  }
}

/** The module's transaction and its tags (Module-Format, Memory-Limit...). */
export async function moduleRecord(gateway: string, module: string): Promise<Lookup<Record<string, string>>> {
  try {
    const data = await graphql<{
      transactions: { edges: { node: { id: string; tags: { name: string; value: string }[] } }[] };
    }>(
      gateway,
      "query($ids: [ID!]) { transactions(ids: $ids) { edges { node { id tags { name value } } } } }",
      {
        ids: [module],
      },
    );
    const node = data.transactions.edges.find((e) => e.node.id === module)?.node;
    if (!node) return { missing: `no transaction ${module}` };
    const tags = Object.fromEntries(node.tags.map((t) => [t.name, t.value]));
    if (tags.Type !== "Module")
      return { missing: `transaction ${module} is not a module (Type ${tags.Type ?? "none"})` };
    return { found: tags };
  } catch (err) {
    return failure(`${gateway}/graphql`, err);
  }
}

/**
 * The values every part of the project says something about, each with its one type and its one rule:
 * AO/Arweave IDs, endpoint URLs, the endpoints of an AO network, the upgrade strategy, the spawn tag
 * that identifies a deployment, and Pulumi's preview-unknown marker.
 *
 * Users: the stack config (infra/config.ts), the resource's `check` (validate.ts), the outputs script
 * (scripts/outputs.ts) and the local network's `network.json` (devnet/networkFile.ts). A rule is a zod
 * schema whose issue message is a reason that follows the name of what was checked, e.g.
 * `module "abc" is not an Arweave ID: ...`; each user prefixes its own name (a property, a config key).
 *
 * The provider's `check` reaches this module, so it follows the serializer's rules: zod is required at
 * call time and every schema is built by a function when it is used (a zod schema holds bound
 * functions, which Pulumi cannot serialize).
 */
import type { z as Z } from "zod";

const zod = () => (require("zod") as typeof import("zod")).z;

/** Pulumi's marker for a value not known during preview: a rule never fails on it. */
export const PREVIEW_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** The spawn tag carrying the deployment's unique ID; the provider looks its own spawn up by it. */
export const DEPLOYMENT_ID_TAG = "Deployment-Id";

/** The legacy network's messenger, its processes' Authority: never a mainnet process's. */
export const LEGACY_AUTHORITY = "fcoN_xJeisVsPXA-trzVAuIiqO3ydLQxM-L4XbrQKzY";

/** Arweave/AO IDs (transactions, processes, modules, wallet addresses): 43 base64url characters. */
export const AO_ID_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** A value for a reason: JSON-quoted, at most 80 characters. */
export function show(value: unknown): string {
  let s: string;
  try {
    s = value === undefined ? "undefined" : JSON.stringify(value);
  } catch {
    s = String(value);
  }
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** A schema from a function that returns the reason a value is bad, or undefined when it is good. */
export function rule<T>(problem: (value: unknown) => string | undefined): Z.ZodType<T, Z.ZodTypeDef, T> {
  return zod()
    .any()
    .superRefine((value, ctx) => {
      const reason = problem(value);
      if (reason !== undefined) ctx.addIssue({ code: "custom", message: reason, fatal: true });
    }) as unknown as Z.ZodType<T, Z.ZodTypeDef, T>;
}

/** The first reason a schema gives against a value, or undefined when the value passes. */
export function problemOf(schema: Z.ZodTypeAny, value: unknown): string | undefined {
  const r = schema.safeParse(value);
  return r.success ? undefined : r.error.issues[0]?.message;
}

const aoIdProblem = (value: unknown): string | undefined =>
  typeof value === "string" && AO_ID_PATTERN.test(value)
    ? undefined
    : `${show(value)} is not an Arweave ID: expected 43 characters of base64url (A-Z a-z 0-9 - _), e.g. a transaction or wallet address from ao.link or the aos CLI`;

export const aoIdSchema = () => rule<string>(aoIdProblem);

export const isLoopback = (host: string) =>
  host === "localhost" || host === "127.0.0.1" || host === "[::1]" || host.endsWith(".localhost");

/**
 * The one rule for an AO endpoint URL: absolute http(s), https unless the host is loopback (a local
 * network), no credentials (masked in the reason), no query or fragment.
 */
function urlProblem(value: unknown): string | undefined {
  if (typeof value !== "string" || value === "")
    return `${show(value)} is missing: set an http(s) URL such as https://cu.ao-testnet.xyz`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `${show(value)} is not a URL: use an absolute http(s) URL such as https://mu.ao-testnet.xyz`;
  }
  if (url.username || url.password) {
    url.username = url.username ? "***" : "";
    url.password = url.password ? "***" : "";
    return `${show(url.toString())} contains credentials: remove them from the URL (AO units take none)`;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    return `${show(value)} uses ${url.protocol}: use https: (or http: for a local network)`;
  if (url.protocol === "http:" && !isLoopback(url.hostname))
    return `${show(value)} must use https (plain http is for a local network on localhost only)`;
  if (url.search || url.hash) return `${show(value)} must not carry a query or fragment`;
  return undefined;
}

/** A URL that passes `urlProblem`, without its trailing slashes (the form every user stores). */
export const normalizeUrl = (value: string) => new URL(value).toString().replace(/\/+$/, "");

export const endpointUrlSchema = () => rule<string>(urlProblem);

/** AO's legacy network: messenger unit (MU), compute unit (CU), Arweave gateway (GraphQL). */
export interface LegacyEndpoints {
  /** Omitted in states and stacks written before mainnet existed: legacy. */
  network?: "legacy";
  mu: string;
  cu: string;
  gateway: string;
}

/**
 * AO mainnet: a HyperBEAM node takes spawns and pushes (and answers its address and the schedule); by
 * default it also computes results and dry-runs, unless `computeNode` names another node for them.
 */
export interface MainnetEndpoints {
  network: "mainnet";
  node: string;
  computeNode?: string;
}

export type Endpoints = LegacyEndpoints | MainnetEndpoints;
export type AoNetwork = NonNullable<Endpoints["network"]>;

/** The endpoints of either network; a missing `network` is legacy. Unknown keys are refused. */
export function endpointsSchema(): Z.ZodType<Endpoints, Z.ZodTypeDef, unknown> {
  const z = zod();
  const legacyEndpoints = z.object({
    network: z.literal("legacy"),
    mu: endpointUrlSchema(),
    cu: endpointUrlSchema(),
    gateway: endpointUrlSchema(),
  });
  const mainnetEndpoints = z.object({
    network: z.literal("mainnet"),
    node: endpointUrlSchema(),
    computeNode: endpointUrlSchema().optional(),
  });
  const LEGACY_KEYS = "legacy AO takes mu, cu and gateway";
  const MAINNET_KEYS = "AO mainnet takes node (and computeNode)";
  return z.preprocess(
    (v) =>
      v && typeof v === "object" && !Array.isArray(v) && (v as { network?: unknown }).network === undefined
        ? { ...v, network: "legacy" }
        : v,
    z.discriminatedUnion(
      "network",
      [legacyEndpoints.strict(LEGACY_KEYS), mainnetEndpoints.strict(MAINNET_KEYS)],
      {
        errorMap: (issue, ctx) =>
          issue.code === "invalid_union_discriminator"
            ? {
                message: `${show((ctx.data as { network?: unknown }).network)} is not an AO network: use "legacy" or "mainnet"`,
              }
            : issue.code === "invalid_type" && issue.expected === "object"
              ? {
                  message: `${show(ctx.data)} must be { mu, cu, gateway } URLs (legacy AO: messenger, compute unit, gateway) or { network: "mainnet", node }`,
                }
              : { message: ctx.defaultError },
      },
    ),
  ) as unknown as Z.ZodType<Endpoints, Z.ZodTypeDef, unknown>;
}

/**
 * The URL that plays a unit's role: the legacy unit's own, or on mainnet the node (the compute node for
 * the compute unit's role).
 */
export const unitUrl = (endpoints: Endpoints, unit: "mu" | "cu" | "gateway") =>
  endpoints.network === "mainnet"
    ? unit === "cu"
      ? (endpoints.computeNode ?? endpoints.node)
      : endpoints.node
    : endpoints[unit];

/** `replace` (default): a new process per code change. `eval`: load new code into the same process. */
export const UPGRADE_STRATEGIES = ["replace", "eval"] as const;
export type UpgradeStrategy = (typeof UPGRADE_STRATEGIES)[number];

export const upgradeStrategySchema = () =>
  rule<UpgradeStrategy>((v) =>
    UPGRADE_STRATEGIES.includes(v as UpgradeStrategy)
      ? undefined
      : `${show(v)} is not an upgrade strategy: use "replace" (default: a new process per code change) or "eval" (load the new code into the same process)`,
  );

/** A zod issue path as a property name: `endpoints.mu`, `tags[0]`. */
export const propertyOf = (path: (string | number)[]) =>
  path.map((k, i) => (typeof k === "number" ? `[${k}]` : i === 0 ? k : `.${k}`)).join("");

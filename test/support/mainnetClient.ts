import type { Jwk } from "../../providers/wallet";

export interface Tag {
  name: string;
  value: string;
}

/** A result as aoconnect's mainnet mode normalizes it (`raw` of the node's JSON). */
export interface MainnetResult {
  Output: unknown;
  Messages: { Target?: string; Data?: string; Tags?: Tag[] }[];
  Spawns: unknown[];
  Assignments: unknown[];
  Error?: unknown;
}

/** The calls of aoconnect 0.0.98 in mainnet mode that the tests use (its own typings are `any`). */
export interface MainnetClient {
  spawn(a: { module: string; tags?: Tag[]; data?: string; authority?: string }): Promise<string>;
  message(a: { process: string; tags?: Tag[]; data?: string }): Promise<number>;
  message(a: {
    process: string;
    tags?: Tag[];
    data?: string;
    returnMessageId: true;
    returnAssignmentSlot: true;
  }): Promise<{ slot: number; id: string }>;
  result(a: { process: string; slot: number }): Promise<MainnetResult>;
  dryrun(a: { process: string; tags?: Tag[]; data?: string }): Promise<MainnetResult>;
  results(a: { process: string }): Promise<{ edges: { cursor: string; node: MainnetResult }[] }>;
}

/**
 * aoconnect's ESM build. Its CommonJS build (what `require("@permaweb/aoconnect")` resolves to) fails in
 * mainnet mode with `import_ao_core_libs.default.init is not a function`; the `./node` export is the ESM
 * build, which vitest and Node 22.12+/24 load through `import()` (and Node's require of ES modules).
 */
export async function loadAoconnect(): Promise<{
  connect: (args: Record<string, unknown>) => unknown;
  createSigner: (jwk: Jwk) => unknown;
}> {
  // A specifier TypeScript does not resolve: the package's typings are for its main entry only.
  const esm: string = "@permaweb/aoconnect/node";
  return (await import(esm)) as never;
}

/**
 * The unmodified aoconnect in mainnet mode against `node`, signing with `jwk` (none: it sends unsigned
 * items). Without `scheduler` its spawn asks the node for its address first, as against HyperBEAM.
 */
export async function mainnetClient(
  node: string,
  jwk: Jwk | undefined,
  scheduler?: string,
): Promise<MainnetClient> {
  const ao = await loadAoconnect();
  return ao.connect({
    MODE: "mainnet",
    URL: node,
    ...(jwk ? { signer: ao.createSigner(jwk) } : {}),
    ...(scheduler ? { SCHEDULER: scheduler } : {}),
  }) as MainnetClient;
}

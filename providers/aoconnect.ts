/**
 * The one way the provider loads @permaweb/aoconnect: its ESM build (`@permaweb/aoconnect/node`),
 * through Node's `require` of ES modules (Node >= 22.12), at call time.
 *
 * - Not the CommonJS build (`require("@permaweb/aoconnect")`): 0.0.98's fails in mainnet mode
 *   (`import_ao_core_libs.default.init is not a function`).
 * - Not `import()`: Pulumi compiles the program with this project's tsconfig (`module: commonjs`), and
 *   so does `npm run build` for the provider package; TypeScript turns `import()` into `require()`
 *   anyway, so `require` is what runs either way. Writing it says so.
 * - The specifier is a variable: TypeScript (`moduleResolution: node`) does not resolve package
 *   subpath exports, and the package's typings cover its main entry only.
 * - Inside a function, never at module top level: a serialized closure must not capture the module.
 */

/** An aoconnect signer: called with aoconnect's `create` and the signing format. */
export type AoSigner = (
  create: (injected: Record<string, unknown>) => Promise<unknown>,
  kind: string,
) => Promise<unknown>;

/** What the provider uses of aoconnect 0.0.98 (its own typings are `any` for mainnet mode). */
export interface Aoconnect {
  connect(args: Record<string, unknown>): {
    spawn(args: Record<string, unknown>): Promise<string>;
    message(args: Record<string, unknown>): Promise<unknown>;
    result(args: Record<string, unknown>): Promise<unknown>;
    dryrun(args: Record<string, unknown>): Promise<unknown>;
    /** Mainnet mode: one signed request to the node (aoconnect's own primitive under spawn/message/...). */
    request(fields: Record<string, unknown>): Promise<Response>;
  };
  createSigner(jwk: object): AoSigner;
}

const ESM_ENTRY = "@permaweb/aoconnect/node";

export function aoconnect(): Aoconnect {
  const specifier: string = ESM_ENTRY;
  try {
    return require(specifier) as Aoconnect;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ERR_REQUIRE_ESM" || code === "ERR_REQUIRE_ASYNC_MODULE")
      throw new Error(
        `cannot load ${ESM_ENTRY} (${code}): the provider needs Node >= 22.12, whose require loads ES modules; this is Node ${process.version}`,
      );
    throw err;
  }
}

/**
 * What the program serializes into `__provider`: a shim of a few KB that loads the compiled provider
 * by package name, measured as the program produces it (an AoProcess declared under Pulumi's mocks, in
 * a plain Node child: pulumi/pulumi#10480), then loaded the way the dynamic-provider host loads it and
 * driven through check, diff and a create without a wallet.
 */
import Module from "node:module";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { PROVIDER_PACKAGE } from "../../providers/shim";
import { testWallet, walletInEnv } from "../support/wallets";
import { LUA54_HINT } from "./support/inputs";
import {
  programConfigEnv,
  type SerializedProvider,
  serializeProviderInChild,
} from "./support/serializedProvider";

const ROOT = path.join(__dirname, "..", "..");
const HOST = path.join(ROOT, "node_modules", "@pulumi", "pulumi", "cmd", "dynamic-provider", "index.js");
const wallet = testWallet("aoprocess-deployer");
/** The budget for `__provider`: the engine stores it in the state of every resource and sends it on every call. */
const MAX_PROVIDER_BYTES = 8 * 1024;
let serialized: SerializedProvider;
// biome-ignore lint/suspicious/noExplicitAny: the deserialized provider is untyped, as in the host
let provider: any;

/** Loads serialized provider text as the host's requireFromString does: a module at the host's path. */
function loadAsHost(text: string) {
  const m = new Module(HOST, module as unknown as Module);
  m.filename = HOST;
  m.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(
    path.dirname(HOST),
  );
  (m as unknown as { _compile(src: string, file: string): void })._compile(text, HOST);
  return (m.exports as { handler(): unknown }).handler();
}

beforeAll(() => {
  // The wallet is in the environment and the stack config of the program, as during a real `pulumi up`.
  const walletJson = JSON.stringify(wallet.jwk);
  serialized = serializeProviderInChild({
    AO_WALLET_JWK: walletJson,
    ...programConfigEnv({ "aoRegistry:wallet": walletJson }, ["aoRegistry:wallet"]),
  });
  provider = loadAsHost(serialized.text);
}, 60_000);

const ID = (c: string) => c.repeat(43);
const news = {
  code: "return 1",
  module: ID("m"),
  scheduler: ID("s"),
  name: "n",
  endpoints: { mu: "http://127.0.0.1:1", cu: "http://127.0.0.1:1", gateway: "http://127.0.0.1:1" },
};

describe("the serialized provider", () => {
  it("is a shim under 8 KB, the same as the dynamic Resource's own serialization of it", () => {
    // The same text but for spacing in the SDK's `() => provider`, which Node and tsx print differently.
    const squeezed = (t: string) => t.replace(/\s+/g, "");
    expect(squeezed(serialized.text)).toBe(squeezed(serialized.direct));
    expect(Buffer.byteLength(serialized.text)).toBeLessThan(MAX_PROVIDER_BYTES);
    // The shim's methods and nothing they reach: no pipeline, no Lua compiler, no aoconnect.
    expect(serialized.text.match(/^function __f\d+\(/gm)?.length).toBeLessThanOrEqual(12);
    expect(serialized.text).not.toMatch(/deployWith|luaCheck|fengari|connectWith|createDataItemSigner/);
  });

  it("loads the implementation by the package's name, with no path of this machine in it", () => {
    const pkg = require(path.join(ROOT, "providers", "package.json")) as { name: string; main: string };
    expect(pkg.name).toBe(PROVIDER_PACKAGE);
    expect(serialized.text).toContain(JSON.stringify(PROVIDER_PACKAGE));
    expect(serialized.text).toMatch(/require\(this\.packageName\)/);
    expect(serialized.text).not.toContain(ROOT);
    expect(serialized.text).not.toMatch(/\/(work|home|tmp|root|Users)\//);
    // What that name resolves to from the host's path: the compiled package, which `npm ci` builds.
    const resolved = require.resolve(PROVIDER_PACKAGE, { paths: [path.dirname(HOST)] });
    expect(resolved).toBe(path.join(ROOT, "providers", "dist", "index.js"));
  });

  it("contains no secret and no key material", () => {
    expect(serialized.containsSecrets).toBe(false);
    for (const k of ["d", "p", "q", "dp", "dq", "qi", "n"] as const) {
      expect(serialized.text).not.toContain((wallet.jwk as unknown as Record<string, string>)[k]);
    }
    expect(serialized.text).not.toContain("aoRegistry:wallet");
  });

  it("checks: compiles Lua 5.3 and reports a syntax error with file and line", async () => {
    const bad = await provider.check({}, { ...news, code: "local x <const> = 1" });
    expect(bad.failures).toEqual([
      { property: "code", reason: `process.lua:1: unexpected symbol near '<' ${LUA54_HINT}` },
    ]);
    const ok = await provider.check({}, news);
    expect(ok.inputs.codeSha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it("diffs: names the property that forces replacement", async () => {
    const { inputs } = await provider.check({}, news);
    const d = await provider.diff(
      ID("p"),
      { ...inputs, processId: ID("p") },
      { ...inputs, scheduler: ID("S") },
    );
    expect(d).toEqual({ changes: true, replaces: ["scheduler"], deleteBeforeReplace: false });
  });

  it("keeps error messages through serialization (no wallet: says where to put one)", async () => {
    const restoreEnv = walletInEnv(undefined);
    try {
      const { inputs } = await provider.check({}, news);
      const err = await provider.create(inputs).catch((e: Error) => e);
      expect(err.message).toMatch(/No Arweave wallet: set the stack config secret .*:wallet .*AO_WALLET_JWK/);
    } finally {
      restoreEnv();
    }
  });
});

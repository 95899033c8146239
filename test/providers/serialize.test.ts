/**
 * The provider survives Pulumi's closure serialization (where dynamic providers most often break):
 * serialized as the SDK does in a plain Node child (pulumi/pulumi#10480), then loaded the way the
 * dynamic-provider host loads it, and driven through check, diff and a create without a wallet.
 */
import { execFileSync } from "node:child_process";
import Module from "node:module";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { testWallet } from "../support/wallets";

/** What the Lua 5.3 check adds to a Lua 5.4 attribute error (providers/luaVersionHint.ts). */
const LUA54_HINT =
  "(`<const>` is Lua 5.4 syntax; the process runs Lua 5.3 (aos): write `local name = value` without the attribute)";

const ROOT = path.join(__dirname, "..", "..");
const HOST = path.join(ROOT, "node_modules", "@pulumi", "pulumi", "cmd", "dynamic-provider", "index.js");
const wallet = testWallet("aoprocess-deployer");
let serialized: { text: string; containsSecrets: boolean };
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
  const out = execFileSync(
    process.execPath,
    ["--import", "tsx", "test/providers/support/serializeProvider.ts"],
    {
      cwd: ROOT,
      // The wallet is in the environment of the program, as during a real `pulumi up`.
      env: { ...process.env, AO_WALLET_JWK: JSON.stringify(wallet.jwk) },
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  serialized = JSON.parse(out);
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
  it("contains no secret and no key material, and does not inline aoconnect", () => {
    expect(serialized.containsSecrets).toBe(false);
    for (const k of ["d", "p", "q", "dp", "dq", "qi", "n"] as const) {
      expect(serialized.text).not.toContain((wallet.jwk as unknown as Record<string, string>)[k]);
    }
    expect(serialized.text).not.toContain("AO_WALLET_JWK=");
    expect(serialized.text).not.toMatch(/connectWith|createDataItemSigner\s*=/);
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
    const saved = { jwk: process.env.AO_WALLET_JWK, file: process.env.AO_WALLET_FILE };
    delete process.env.AO_WALLET_JWK;
    delete process.env.AO_WALLET_FILE;
    try {
      const { inputs } = await provider.check({}, news);
      const err = await provider.create(inputs).catch((e: Error) => e);
      expect(err.message).toMatch(/No Arweave wallet: set the stack config secret .*:wallet .*AO_WALLET_JWK/);
    } finally {
      if (saved.jwk !== undefined) process.env.AO_WALLET_JWK = saved.jwk;
      if (saved.file !== undefined) process.env.AO_WALLET_FILE = saved.file;
    }
  });
});

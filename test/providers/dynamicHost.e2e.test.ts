/**
 * The AoProcess provider through @pulumi/pulumi's own dynamic-provider host, over gRPC, against a local
 * AO network: serialized as the SDK serializes it (in a plain Node child, with the wallet in the
 * program's environment and config), loaded by `node .../cmd/dynamic-provider` started without Node
 * flags as the engine starts it, and driven with the engine's calls and the engine's data: Configure,
 * Check, Diff, Create, Read, Update, Delete, and the Update the engine sends after an init error.
 * This is where dynamic providers most often break, so every assertion reads real outputs.
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleLua } from "../../providers/bundle";
import { sha256Hex } from "../../providers/hash";
import {
  type DynamicHost,
  DynamicHostError,
  dynamicUrn,
  secret,
  startDynamicHost,
} from "../../scripts/lib/dynamicHost";
import { type Devnet, tempDataDir, withDevnet } from "../support/devnet";
import { NO_ENV_WALLET, testWallet } from "../support/wallets";
import { LUA54_HINT } from "./support/inputs";
import { infoTags, networkInputs, spawnsOf } from "./support/network";
import {
  programConfigEnv,
  type SerializedProvider,
  serializeProviderInChild,
} from "./support/serializedProvider";

const ROOT = path.join(__dirname, "..", "..");
const deployer = testWallet("aoprocess-deployer");
const KEY_PARTS = ["d", "p", "q", "dp", "dq", "qi"] as const;
const urn = (name: string) => dynamicUrn(name, { module: "ao", type: "AoProcess" });

let net: Devnet & { cleanup(): Promise<void> };
let host: DynamicHost;
let serialized: SerializedProvider;
/** Everything that crossed the wire from the host, for the key-material check at the end. */
const seen: unknown[] = [];

beforeAll(async () => {
  const walletJson = JSON.stringify(deployer.jwk);
  // The program's environment during `pulumi up`: the wallet in the environment and in stack config.
  serialized = serializeProviderInChild({
    AO_WALLET_JWK: walletJson,
    ...programConfigEnv({ "aoRegistry:wallet": walletJson }, ["aoRegistry:wallet"]),
  });
  net = await withDevnet();
  const walletFile = path.join(tempDataDir("dynhost-wallet-"), "wallet.json");
  writeFileSync(walletFile, walletJson, { mode: 0o600 });
  host = await startDynamicHost({
    runtimeOptions: { typescript: "true", packagemanager: "npm" },
    env: { ...NO_ENV_WALLET, AO_WALLET_FILE: walletFile },
  });
  await host.pluginInfo();
  await host.configure({ "aoRegistry:module": net.moduleId });
}, 180_000);

afterAll(async () => {
  await host?.stop();
  await net?.cleanup();
});

/** The inputs the program registers (the SDK drops undefined), with the serialized provider. */
function programInputs(patch: Record<string, unknown>): Record<string, unknown> {
  return { ...networkInputs(net, "dynamic-host-e2e"), ...patch, __provider: serialized.text };
}

async function checked(name: string, patch: Record<string, unknown>, olds: Record<string, unknown> = {}) {
  const res = await host.check(urn(name), olds, programInputs(patch));
  seen.push(res);
  expect(res.failures).toEqual([]);
  return res.inputs;
}

const versioned = (version: number) => `Version = ${version}
Handlers.add("Info", "Info", function(msg)
  msg.reply({ Tags = { ["Code-Sha256"] = DeployedCode and DeployedCode.Sha256 or "", Version = tostring(Version) } })
end)`;

describe("AoProcess through the real dynamic-provider host (gRPC)", () => {
  it("runs the host as the engine does: node and the host script, no Node flags", () => {
    const argv = readFileSync(`/proc/${host.pid}/cmdline`, "utf8").split("\0").filter(Boolean);
    expect(argv.slice(1)).toEqual([
      path.join(ROOT, "node_modules", "@pulumi", "pulumi", "cmd", "dynamic-provider", "index.js"),
      "127.0.0.1:0",
    ]);
    const environ = readFileSync(`/proc/${host.pid}/environ`, "utf8").split("\0");
    expect(environ.some((v) => v.startsWith("NODE_OPTIONS="))).toBe(false);
  });

  it("serializes without secrets and without key material, though the program has the wallet", () => {
    expect(serialized.containsSecrets).toBe(false);
    for (const k of KEY_PARTS) expect(serialized.text).not.toContain(deployer.jwk[k]!);
    expect(serialized.text).not.toContain("aoRegistry:wallet");
  });

  let registry: { id: string; properties: Record<string, unknown>; inputs: Record<string, unknown> };

  it("checks registry.lua as the program sends it: compiled, hashed, defaults applied", async () => {
    const code = bundleLua(path.join(ROOT, "ao-process", "registry.lua")).code;
    const inputs = await checked("registry", { code, name: "registry-e2e" });
    expect(inputs).toMatchObject({
      code,
      codeSha256: sha256Hex(code),
      upgrade: "replace",
      validation: { action: "Info", hashTag: "Code-Sha256", skip: false },
      tags: [{ name: "App-Name", value: "dynamic-host-e2e" }],
      __provider: serialized.text,
    });
    registry = { id: "", properties: {}, inputs };
  });

  it("creates registry.lua: the process ID answers a dry-run Info with the deployed Code-Sha256", async () => {
    const res = await host.create(urn("registry"), registry.inputs);
    seen.push(res);
    expect(res.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(res.properties).toMatchObject({
      processId: res.id,
      codeSha256: registry.inputs.codeSha256,
      module: net.moduleId,
      scheduler: net.schedulerId,
      owner: deployer.address,
      __provider: serialized.text,
    });
    expect(res.properties.evalMessageId).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Number.isNaN(Date.parse(String(res.properties.deployedAt)))).toBe(false);
    // The state keeps the hash; the code stays with the inputs, which the engine stores anyway.
    expect(res.properties).not.toHaveProperty("code");
    expect((await infoTags(net, deployer, res.id))["Code-Sha256"]).toBe(registry.inputs.codeSha256);
    expect(await spawnsOf(net, String(res.properties.deploymentId))).toEqual([res.id]);
    registry = { ...registry, id: res.id, properties: res.properties };
  });

  it("reads (refresh): the same process and state while it runs the recorded code", async () => {
    const res = await host.read(urn("registry"), registry.id, registry.properties, registry.inputs);
    seen.push(res);
    expect(res.id).toBe(registry.id);
    expect(res.properties).toEqual(registry.properties);
  });

  it("refreshes from a copy of the project at another path: the shim loads the copy's compiled provider", async () => {
    // The project as another machine has it: the compiled provider and node_modules (hard links: fast),
    // where npm's link to providers/ is relative, so it points into the copy.
    const copy = path.join(tempDataDir("dynhost-relocated-"), "project");
    mkdirSync(copy);
    cpSync(path.join(ROOT, "providers"), path.join(copy, "providers"), { recursive: true });
    cpSync(path.join(ROOT, "package.json"), path.join(copy, "package.json"));
    execFileSync("cp", ["-al", path.join(ROOT, "node_modules"), path.join(copy, "node_modules")]);
    // NODE_DEBUG=module: Node logs each module it loads, by real path, on the host's stderr.
    const moved = await startDynamicHost({
      cwd: copy,
      env: { NODE_DEBUG: "module", ...NO_ENV_WALLET },
    });
    try {
      await moved.configure({});
      const res = await moved.read(urn("registry"), registry.id, registry.properties, registry.inputs);
      expect(res.properties).toEqual(registry.properties);
      const loads = moved.logs.filter((l) => /providers\/dist\/aoProcess\.js/.test(l));
      expect(loads.some((l) => l.includes(path.join(copy, "providers", "dist", "aoProcess.js")))).toBe(true);
      expect(loads.filter((l) => l.includes(path.join(ROOT, "providers")))).toEqual([]);
    } finally {
      await moved.stop();
      rmSync(path.dirname(copy), { recursive: true, force: true });
    }
  }, 240_000);

  it("diffs: no change for the same program, and names the property that forces replacement", async () => {
    const same = await host.diff(urn("registry"), registry.id, registry.properties, registry.inputs);
    expect(same).toMatchObject({ changes: "none", replaces: [] });
    const other = await checked("registry", { code: versioned(1), name: "registry-e2e" });
    expect(await host.diff(urn("registry"), registry.id, registry.properties, other)).toMatchObject({
      changes: "some",
      replaces: ["code"],
      deleteBeforeReplace: false,
    });
    const moved = { ...registry.inputs, scheduler: "S".repeat(43) };
    expect((await host.diff(urn("registry"), registry.id, registry.properties, moved)).replaces).toEqual([
      "scheduler",
    ]);
  });

  it("fails on a Lua syntax error before anything reaches AO, naming the file and line", async () => {
    const dir = path.join(tempDataDir("dynhost-lua-"), "proc");
    mkdirSync(path.join(dir, "lib"), { recursive: true });
    writeFileSync(path.join(dir, "main.lua"), 'local util = require("lib.util")\nreturn util');
    writeFileSync(
      path.join(dir, "lib", "util.lua"),
      "local M = {}\nfunction M.f()\n  return = 1\nend\nreturn M",
    );
    // The program's bundler compiles each file as it reads it; Check compiles the code it is given.
    expect(() => bundleLua(path.join(dir, "main.lua"))).toThrowError(
      "proc/lib/util.lua:3: unexpected symbol near '='",
    );
    const bad = await host.check(urn("broken-syntax"), {}, programInputs({ code: "x = 1\nx = = 2" }));
    expect(bad.failures).toEqual([{ property: "code", reason: "process.lua:2: unexpected symbol near '='" }]);
    const lua54 = await host.check(urn("lua54"), {}, programInputs({ code: "local x <const> = 1" }));
    expect(lua54.failures).toEqual([
      { property: "code", reason: `process.lua:1: unexpected symbol near '<' ${LUA54_HINT}` },
    ]);
  });

  it("updates under eval in place, then deletes as a documented no-op that leaves the process running", async () => {
    const v1 = await checked("app", { code: versioned(1), upgrade: "eval" });
    const created = await host.create(urn("app"), v1);
    seen.push(created);
    const v2 = await checked("app", { code: versioned(2), upgrade: "eval" }, v1);
    expect(await host.diff(urn("app"), created.id, created.properties, v2, v1)).toMatchObject({
      changes: "some",
      replaces: [],
    });
    const updated = await host.update(urn("app"), created.id, created.properties, v2, v1);
    seen.push(updated);
    expect(updated.properties).toMatchObject({ processId: created.id, codeSha256: v2.codeSha256 });
    expect(await infoTags(net, deployer, created.id)).toMatchObject({
      "Code-Sha256": v2.codeSha256,
      Version: "2",
    });

    await host.delete(urn("app"), created.id, updated.properties, v2);
    expect(await host.waitForLog(new RegExp(`process ${created.id} .*cannot be destroyed`))).toContain(
      "keeps running",
    );
    expect((await infoTags(net, deployer, created.id)).Version).toBe("2");
  });

  it("reports an init error after the spawn, then the engine's Update finishes in the same process", async () => {
    const broken = await checked("resumed", { code: 'Version = 1\nerror("boom while loading")' });
    const err = (await host.create(urn("resumed"), broken).catch((e) => e)) as DynamicHostError;
    seen.push({ message: err.message, initFailed: err.initFailed });
    expect(err).toBeInstanceOf(DynamicHostError);
    expect(err.message).toContain("boom while loading");
    const failed = err.initFailed!;
    expect(failed.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(failed.reasons.join("\n")).toContain("boom while loading");
    expect(failed.properties).toMatchObject({
      processId: failed.id,
      codeSha256: broken.codeSha256,
      __provider: serialized.text,
    });
    expect(failed.properties).not.toHaveProperty("deployedAt");

    // Next `pulumi up`, with the code fixed: the engine checks against the recorded inputs, diffs
    // against the recorded properties (an update, not a replacement), and calls Update with the ID.
    const fixed = await checked("resumed", { code: versioned(5) }, broken);
    expect(await host.diff(urn("resumed"), failed.id, failed.properties, fixed, broken)).toMatchObject({
      changes: "some",
      replaces: [],
    });
    const res = await host.update(urn("resumed"), failed.id, failed.properties, fixed, broken);
    seen.push(res);
    expect(res.properties).toMatchObject({
      processId: failed.id,
      codeSha256: fixed.codeSha256,
      deploymentId: failed.properties.deploymentId,
      __provider: serialized.text,
    });
    expect(await infoTags(net, deployer, failed.id)).toMatchObject({
      "Code-Sha256": fixed.codeSha256,
      Version: "5",
    });
    expect(await spawnsOf(net, String(failed.properties.deploymentId))).toEqual([failed.id]);
  });

  it.each([
    ["ASCII", 'string.rep("x", 100 * 1024)'],
    ["non-ASCII (percent-encoded threefold in grpc-message)", 'string.rep("\\195\\169", 50 * 1024)'],
  ])("reports a 100 KiB Lua error (%s) as an init error that grpc-js receives, bounded", async (_k, lua) => {
    const name = `huge-error-${seen.length}`;
    const broken = await checked(name, { code: `error("BEGIN " .. ${lua} .. " END")`, name });
    const err = (await host.create(urn(name), broken).catch((e) => e)) as DynamicHostError;
    seen.push({ message: err.message, initFailed: err.initFailed });
    expect(err).toBeInstanceOf(DynamicHostError);
    // The init failure arrived whole: the process is recorded, so the next `pulumi up` resumes it.
    expect(err.initFailed?.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(err.initFailed?.properties).toMatchObject({
      processId: err.initFailed?.id,
      __provider: serialized.text,
    });
    expect(err.message).toContain("BEGIN ");
    expect(err.message).toMatch(/\[\.\.\. \d+ more characters of this error left out \.\.\.\]/);
    expect(err.message).toContain("run `pulumi up` again to resume");
    expect(Buffer.byteLength(err.message)).toBeLessThanOrEqual(16 * 1024 + 100);
    expect(err.initFailed!.reasons.join("").length).toBeLessThanOrEqual(2 * 1024);
    expect(await spawnsOf(net, String(err.initFailed?.properties.deploymentId))).toEqual([
      err.initFailed?.id,
    ]);
  });

  it("sends no key material over the wire or to the logs", () => {
    const text = JSON.stringify(seen) + host.logs.join("\n");
    expect(text.length).toBeGreaterThan(1000);
    for (const k of KEY_PARTS) expect(text).not.toContain(deployer.jwk[k]!);
  });
});

/** Key material of a wallet found in `text`, by component name (empty when there is none). */
function keyMaterialIn(text: string, jwk: typeof deployer.jwk): string[] {
  return KEY_PARTS.filter((k) => text.includes(jwk[k]!));
}

async function processesNamed(name: string): Promise<string[]> {
  const res = await fetch(`${net.urls.gateway}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      query: `{ transactions(tags: [{ name: "Name", values: [${JSON.stringify(name)}] }], first: 10) { edges { node { id } } } }`,
    }),
  });
  const body = (await res.json()) as { data: { transactions: { edges: { node: { id: string } }[] } } };
  return body.data.transactions.edges.map((e) => e.node.id);
}

describe("the wallet from stack config (the secret aoRegistry:wallet, through Configure) or the environment", () => {
  const fromConfig = testWallet("aoprocess-config-wallet");
  const hosts: DynamicHost[] = [];
  /** A host started as the engine starts it for a stack, with `env` for the host and `config` for Configure. */
  async function hostWith(env: Record<string, string | undefined>, config: Record<string, unknown>) {
    const h = await startDynamicHost({
      env: { ...NO_ENV_WALLET, ...env },
    });
    hosts.push(h);
    // The engine sends the whole stack config, namespaces kept; `--secret` values as secrets.
    expect(
      await h.configure({ "aoRegistry:module": net.moduleId, "aoRegistry:upgrade": "replace", ...config }),
    ).toEqual({
      acceptSecrets: false,
      acceptResources: false,
    });
    return h;
  }
  afterAll(async () => {
    for (const h of hosts) await h.stop();
  });

  it("deploys with the config secret alone, and no output, state, error or log holds the key", async () => {
    const h = await hostWith({}, { "aoRegistry:wallet": secret(JSON.stringify(fromConfig.jwk)) });
    const news = programInputs({ code: versioned(7), name: "config-wallet" });
    const { inputs } = await h.check(urn("config-wallet"), {}, news);
    const created = await h.create(urn("config-wallet"), inputs);
    expect(created.properties.owner).toBe(fromConfig.address);
    expect(await processesNamed("config-wallet")).toEqual([created.id]);
    expect(await infoTags(net, deployer, created.id)).toMatchObject({
      Version: "7",
      "Code-Sha256": inputs.codeSha256,
    });
    const read = await h.read(urn("config-wallet"), created.id, created.properties, inputs);

    // A failure after the spawn: its message and the properties recorded with it.
    const broken = (await h.check(urn("config-broken"), {}, programInputs({ code: 'error("no")' }))).inputs;
    const err = (await h.create(urn("config-broken"), broken).catch((e) => e)) as DynamicHostError;
    expect(err.initFailed?.properties.owner).toBe(fromConfig.address);

    const everything = JSON.stringify({ created, read, message: err.message, failed: err.initFailed });
    // The last line the failed create logs, so that every line it wrote is in h.logs below.
    await h.waitForLog(new RegExp(`sent Eval \\(.+\\) to process ${err.initFailed?.id}`));
    expect(keyMaterialIn(everything + h.logs.join("\n"), fromConfig.jwk)).toEqual([]);
    expect(everything).not.toContain("aoRegistry:wallet");
  });

  it("prefers the config secret to AO_WALLET_FILE in the environment", async () => {
    const file = path.join(tempDataDir("dynhost-env-wallet-"), "wallet.json");
    writeFileSync(file, JSON.stringify(deployer.jwk), { mode: 0o600 });
    const h = await hostWith(
      { AO_WALLET_FILE: file },
      { "aoRegistry:wallet": secret(JSON.stringify(fromConfig.jwk)) },
    );
    const { inputs } = await h.check(urn("precedence"), {}, programInputs({ code: versioned(8) }));
    expect((await h.create(urn("precedence"), inputs)).properties.owner).toBe(fromConfig.address);
  });

  it("deploys with ARWEAVE_WALLET_JWK alone, the variable the design's deploy script reads", async () => {
    const h = await hostWith({ ARWEAVE_WALLET_JWK: JSON.stringify(fromConfig.jwk) }, {});
    const { inputs } = await h.check(urn("arweave-env"), {}, programInputs({ code: versioned(11) }));
    expect((await h.create(urn("arweave-env"), inputs)).properties.owner).toBe(fromConfig.address);
  });

  it("AO_WALLET_JWK and ARWEAVE_WALLET_JWK set to different wallets: one line naming both, no key, no spawn", async () => {
    const h = await hostWith(
      { AO_WALLET_JWK: JSON.stringify(deployer.jwk), ARWEAVE_WALLET_JWK: JSON.stringify(fromConfig.jwk) },
      {},
    );
    const name = "two-env-wallets";
    const { inputs } = await h.check(urn(name), {}, programInputs({ code: versioned(12), name }));
    const err = (await h.create(urn(name), inputs).catch((e) => e)) as DynamicHostError;
    expect(err.message).toContain(
      `AO_WALLET_JWK (address ${deployer.address}) and ARWEAVE_WALLET_JWK (address ${fromConfig.address}) ` +
        "hold different wallets: unset one of them, or set both to the same wallet JSON.",
    );
    const seen = err.message + h.logs.join("\n");
    expect(keyMaterialIn(seen, deployer.jwk)).toEqual([]);
    expect(keyMaterialIn(seen, fromConfig.jwk)).toEqual([]);
    expect(err.initFailed).toBeUndefined();
    expect(await processesNamed(name)).toEqual([]);
  });

  it("without config secret or environment: fails before spawning, naming both ways to provide a wallet", async () => {
    const h = await hostWith({}, {});
    const name = "no-wallet-anywhere";
    const { inputs } = await h.check(urn(name), {}, programInputs({ code: versioned(9), name }));
    const err = (await h.create(urn(name), inputs).catch((e) => e)) as DynamicHostError;
    expect(err).toBeInstanceOf(DynamicHostError);
    expect(err.message).toContain("No Arweave wallet");
    expect(err.message).toContain('pulumi config set --secret aoRegistry:wallet "$(cat wallet.json)"');
    expect(err.message).toMatch(/AO_WALLET_JWK .* AO_WALLET_FILE/);
    expect(err.initFailed).toBeUndefined();
    expect(await processesNamed(name)).toEqual([]);
  });

  it("a config secret that is not a wallet: names the key, echoes none of it, spawns nothing", async () => {
    const garbled = `${JSON.stringify(fromConfig.jwk).slice(0, -1)},}`;
    const h = await hostWith({}, { "aoRegistry:wallet": secret(garbled) });
    const name = "garbled-wallet";
    const { inputs } = await h.check(urn(name), {}, programInputs({ code: versioned(10), name }));
    const err = (await h.create(urn(name), inputs).catch((e) => e)) as DynamicHostError;
    expect(err.message).toMatch(/The stack config secret aoRegistry:wallet is not valid JSON/);
    expect(keyMaterialIn(err.message + h.logs.join("\n"), fromConfig.jwk)).toEqual([]);
    expect(await processesNamed(name)).toEqual([]);
  });
});

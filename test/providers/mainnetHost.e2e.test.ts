/**
 * The provider as Pulumi runs it on AO mainnet: `providers/` compiled by `tsc` with this project's
 * tsconfig (`module: commonjs`, as Pulumi's ts-node and `npm run build` compile it), loaded by name by
 * @pulumi/pulumi's own dynamic-provider host over gRPC, and a mainnet create, refresh and preview diff
 * run through it against the local network's mainnet front door. Tests run through vitest/tsx would
 * miss a loading path that only breaks in the CommonJS emit (aoconnect's CommonJS build fails in mainnet
 * mode); this one reads, from Node's own module log, that the host loaded aoconnect's ESM build.
 */
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, rmSync } from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DynamicHost, dynamicUrn, startDynamicHost } from "../../scripts/lib/dynamicHost";
import { type Devnet, tempDataDir, withDevnet } from "../support/devnet";
import { NO_ENV_WALLET, testWallet } from "../support/wallets";
import { infoTags, networkInputs, spawnsOf } from "./support/network";
import { type SerializedProvider, serializeProviderInChild } from "./support/serializedProvider";

const ROOT = path.join(__dirname, "..", "..");
const deployer = testWallet("aoprocess-deployer");
const urn = (name: string) => dynamicUrn(name, { module: "ao", type: "AoProcess" });

let net: Devnet & { cleanup(): Promise<void> };
let host: DynamicHost;
let serialized: SerializedProvider;
let copy: string;

beforeAll(async () => {
  serialized = serializeProviderInChild();
  // The project at another path, its provider compiled there from source (no dist copied).
  copy = path.join(tempDataDir("mainnet-host-"), "project");
  mkdirSync(copy);
  cpSync(path.join(ROOT, "providers"), path.join(copy, "providers"), {
    recursive: true,
    filter: (src) => !src.includes(`${path.sep}dist`),
  });
  for (const f of ["package.json", "tsconfig.json"]) cpSync(path.join(ROOT, f), path.join(copy, f));
  execFileSync("cp", ["-al", path.join(ROOT, "node_modules"), path.join(copy, "node_modules")]);
  execFileSync(
    process.execPath,
    [path.join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", "providers/tsconfig.build.json"],
    {
      cwd: copy,
    },
  );
  net = await withDevnet();
  // NODE_DEBUG=module: Node logs each module it loads, by real path, on the host's stderr.
  host = await startDynamicHost({
    cwd: copy,
    runtimeOptions: { typescript: "true", packagemanager: "npm" },
    env: { NODE_DEBUG: "module", ...NO_ENV_WALLET, AO_WALLET_JWK: JSON.stringify(deployer.jwk) },
  });
  await host.configure({ "aoRegistry:module": net.moduleId });
}, 300_000);

afterAll(async () => {
  await host?.stop();
  await net?.cleanup();
  if (copy) rmSync(path.dirname(copy), { recursive: true, force: true });
});

const code = `Handlers.add("Info", "Info", function(msg)
  msg.reply({ Tags = { ["Code-Sha256"] = DeployedCode and DeployedCode.Sha256 or "" } })
end)`;

describe("a mainnet deploy through the dynamic-provider host, provider compiled by tsc (CommonJS)", () => {
  let created: { id: string; properties: Record<string, unknown> };
  let inputs: Record<string, unknown>;

  it("compiled the provider into the copy with the project's tsconfig", () => {
    expect(existsSync(path.join(copy, "providers", "dist", "aoconnect.js"))).toBe(true);
  });

  it("creates on the mainnet front door: the slot of the Eval is recorded, the process reports the code", async () => {
    const checked = await host.check(
      urn("registry"),
      {},
      {
        ...networkInputs(net, "mainnet-host-e2e", "mainnet"),
        code,
        __provider: serialized.text,
      },
    );
    expect(checked.failures).toEqual([]);
    inputs = checked.inputs;
    const res = await host.create(urn("registry"), inputs);
    expect(res.properties).toMatchObject({
      processId: res.id,
      endpoints: { network: "mainnet", node: net.urls.node },
      authority: net.authority,
      evalSlot: 1,
    });
    expect(res.properties).not.toHaveProperty("evalMessageId");
    expect((await infoTags(net, deployer, res.id))["Code-Sha256"]).toBe(inputs.codeSha256);
    expect(await spawnsOf(net, String(res.properties.deploymentId))).toEqual([res.id]);
    created = res;
  });

  it("loaded aoconnect's ESM build from the copy's compiled provider, never its CommonJS build", () => {
    const aoconnect = host.logs.filter((l) => /@permaweb\/aoconnect\/dist\/index\.c?js/.test(l));
    expect(aoconnect.some((l) => /dist\/index\.js/.test(l))).toBe(true);
    expect(aoconnect.filter((l) => /dist\/index\.cjs/.test(l))).toEqual([]);
    const provider = host.logs.filter((l) => /providers\/dist\/aoconnect\.js/.test(l));
    expect(provider.some((l) => l.includes(path.join(copy, "providers", "dist")))).toBe(true);
  });

  it("refreshes without the wallet (reads are signed by a key made for the run)", async () => {
    const bare = await startDynamicHost({
      cwd: copy,
      env: NO_ENV_WALLET,
    });
    try {
      await bare.configure({});
      const res = await bare.read(urn("registry"), created.id, created.properties, inputs);
      expect(res.properties).toEqual(created.properties);
      // A change of network replaces the process; the preview names it.
      const legacy = await bare.check(urn("registry"), inputs, {
        ...networkInputs(net, "mainnet-host-e2e", "legacy"),
        code,
        __provider: serialized.text,
      });
      expect(legacy.failures).toEqual([]);
      expect(await bare.diff(urn("registry"), created.id, created.properties, legacy.inputs)).toMatchObject({
        changes: "some",
        replaces: ["endpoints.network"],
      });
    } finally {
      await bare.stop();
    }
  });
});

import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { AOS_MODULE_ID } from "../../devnet/modules";
import { describeNetwork } from "../../devnet/networkFile";
import { type ConfigKey, PROJECT, resolveSettings } from "../../infra/config";
import { DEV_PASSPHRASE, makeEncryptionSalt, passphraseOpens } from "../../scripts/lib/passphrase";
import { readYaml } from "./support/yaml";

type StackFile = { encryptionsalt?: string; secretsprovider?: string; config: Record<string, unknown> };
const dev = readYaml<StackFile>("Pulumi.dev.yaml");
const production = readYaml<StackFile>("Pulumi.production.yaml");
const testnet = readYaml<StackFile>("Pulumi.testnet.yaml");

const plain = (stack: StackFile, k: string) => stack.config[`${PROJECT}:${k}`];

/** The stack's config as the program sees it: project keys without their namespace, plain strings only. */
function sourceOf(name: string, stack: StackFile, files: Record<string, string> = {}) {
  return {
    stack: name,
    get: (k: ConfigKey) => {
      const v = plain(stack, k);
      return typeof v === "string" ? v : undefined;
    },
    isSecret: () => false,
    env: {},
    resolvePath: (p: string) => path.resolve("/repo", p),
    readFile: (f: string) => files[f],
  };
}

describe("dev, testnet and production run the same aos module", () => {
  it("every stack pins the module the local network runs", () => {
    for (const stack of [dev, testnet, production]) expect(plain(stack, "module")).toBe(AOS_MODULE_ID);
  });
});

describe("Pulumi.production.yaml", () => {
  it("resolves to AO mainnet: the node, its scheduler, no pinned authority, identity tags, the CLI repository", () => {
    const s = resolveSettings(sourceOf("production", production));
    expect(s.endpoints).toEqual({ network: "mainnet", node: "https://push.forward.computer" });
    expect(s.scheduler).toBe("n_XZJhUnmldNFo4dhajoPZWhBXuJk-OcQr5JQ49c4Zo");
    // The node's own address, read from it when the process is created and recorded (no value in the
    // repository claims to be the node's address).
    expect(s.authority).toBeUndefined();
    expect(s.processName).toBe("Skills Registry Process");
    expect(s.tags).toEqual({ "App-Name": "Agent-Skills-Registry" });
    expect(s.upgrade).toBe("replace");
    expect(s.github).toMatchObject({ secretName: "REGISTRY_PROCESS_ID" });
    expect(s.networkFile).toBeUndefined();
  });
});

describe("Pulumi.testnet.yaml", () => {
  it("resolves to AO's legacy units with the values production had before mainnet, publishing no secret", () => {
    const s = resolveSettings(sourceOf("testnet", testnet));
    expect(s.endpoints).toEqual({
      network: "legacy",
      mu: "https://mu.ao-testnet.xyz",
      cu: "https://cu.ao-testnet.xyz",
      gateway: "https://arweave.net",
    });
    expect(s.scheduler).toBe("_GQ33BkPtZrqxA84vM8Zk-N2aO0toNNu_C-l-rawrBA");
    expect(s.authority).toBe("fcoN_xJeisVsPXA-trzVAuIiqO3ydLQxM-L4XbrQKzY");
    expect(s.tags).toEqual({ "App-Name": "Agent-Skills-Registry" });
    expect(s.github).toBeUndefined();
  });
});

describe("Pulumi.dev.yaml", () => {
  it("learns the local network from network.json", () => {
    const file = plain(dev, "networkFile");
    expect(file).toBe(".devnet-data/network.json");
    // What the local network writes (its own function builds the document).
    const network = describeNetwork(
      "http://localhost:4000",
      [{ id: AOS_MODULE_ID, aosVersion: "2.0.4" }],
      "S".repeat(43),
    );
    const s = resolveSettings(
      sourceOf("dev", dev, { "/repo/.devnet-data/network.json": JSON.stringify(network) }),
    );
    // Mainnet mode by default, so that development matches production.
    expect(plain(dev, "network")).toBeUndefined();
    expect(s.endpoints).toEqual({ network: "mainnet", node: "http://localhost:4000" });
    expect(s.scheduler).toBe("S".repeat(43));
    expect(s.github).toBeUndefined();
  });

  it("hard-codes no URL, scheduler or authority", () => {
    for (const k of ["nodeUrl", "muUrl", "cuUrl", "gatewayUrl", "scheduler", "authority"])
      expect(plain(dev, k), k).toBeUndefined();
  });

  it("carries an encryption salt that the dev-only passphrase opens, so stack init rewrites nothing", () => {
    expect(dev.encryptionsalt).toBeDefined();
    expect(passphraseOpens(DEV_PASSPHRASE, dev.encryptionsalt!)).toBe(true);
    expect(passphraseOpens("another passphrase", dev.encryptionsalt!)).toBe(false);
  });
});

describe("the passphrase salt follows Pulumi's format", () => {
  it("opens Pulumi's own test vector (pkg/secrets/passphrase/manager_test.go)", () => {
    expect(
      passphraseOpens("password", "v1:fozI5u6B030=:v1:F+6ZduKKd8G0/V7L:PGMFeIzwobWRKmEAzUdaQHqC5mMRIQ=="),
    ).toBe(true);
  });

  it("makes salts that open with their passphrase only", () => {
    const salt = makeEncryptionSalt("p");
    expect(passphraseOpens("p", salt)).toBe(true);
    expect(passphraseOpens("q", salt)).toBe(false);
  });
});

describe("no secret in plain stack config", () => {
  const tokenish = /(token|wallet|jwk|key|password|passphrase|secret)/i;
  it.each([
    ["dev", dev],
    ["testnet", testnet],
    ["production", production],
  ] as const)("%s stores no credential in plain text", (_name, stack) => {
    for (const [k, v] of Object.entries(stack.config)) {
      if (tokenish.test(k)) expect(v, k).toHaveProperty("secure");
      expect(JSON.stringify(v)).not.toMatch(/"kty"|ghp_|github_pat_/);
    }
  });
});

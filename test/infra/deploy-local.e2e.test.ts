/**
 * An end-to-end deploy without the Pulumi CLI: the real program under setMocks, every dynamic resource
 * handed to @pulumi/pulumi's real dynamic-provider host (Configure, Check, Create over gRPC) against a
 * local AO network. Run as `scripts/deploy-local.ts` in a plain Node child, as the CLI would run the
 * program: closure serialization misbehaves under test runners' module loaders (pulumi/pulumi#10480).
 */
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AOS_MODULE_ID } from "../../devnet/modules";
import { toCliConfig } from "../../scripts/outputs";
import { aoClient, type Devnet, withDevnet } from "../support/devnet";
import { testWallet } from "../support/wallets";

const REPO = join(__dirname, "..", "..");
const deployer = testWallet("infra-deploy-local");
let net: Devnet & { cleanup(): Promise<void> };
let result: {
  outputs: Record<string, string> & { endpoints: Record<string, string> };
  github: Record<string, string>;
};

let walletFile: string;

type Result = {
  outputs: Record<string, string> & { endpoints: Record<string, string> };
  github: Record<string, string>;
};

/** One `npm run deploy:local`, asynchronously: the network runs in this process and must keep serving. */
async function deployLocal(...extra: string[]): Promise<Result> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      "--import",
      "tsx",
      "scripts/deploy-local.ts",
      "--network-file",
      net.networkFile,
      "--wallet",
      walletFile,
      "--github",
      "agent-skills/agent-skills-cli",
      ...extra,
    ],
    {
      cwd: REPO,
      encoding: "utf8",
      env: { ...process.env, AO_WALLET_JWK: "", GITHUB_TOKEN: "" },
      timeout: 240_000,
    },
  );
  return JSON.parse(stdout);
}

async function info(processId: string): Promise<Record<string, string>> {
  const res = await aoClient(net, deployer.jwk).dryrun({
    process: processId,
    tags: [{ name: "Action", value: "Info" }],
    data: "{}",
    owner: deployer.address,
  });
  expect(res.Error).toBeFalsy();
  const tags: Record<string, string> = {};
  for (const m of res.Messages ?? []) for (const t of m.Tags ?? []) tags[t.name] = t.value;
  return tags;
}

beforeAll(async () => {
  net = await withDevnet();
  walletFile = join(mkdtempSync(join(tmpdir(), "deploy-local-wallet-")), "wallet.json");
  writeFileSync(walletFile, JSON.stringify(deployer.jwk), { mode: 0o600 });
  result = await deployLocal();
}, 300_000);

afterAll(async () => {
  await net?.cleanup();
});

describe("deploy:local: the program through the real dynamic-provider host on the local network", () => {
  it("spawns a real process owned by the deploying wallet, on the module production runs", () => {
    expect(result.outputs.processId).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(result.outputs.owner).toBe(deployer.address);
    expect(result.outputs.module).toBe(AOS_MODULE_ID);
    expect(result.outputs.scheduler).toBe(net.schedulerId);
    expect(result.outputs.endpoints).toEqual({
      network: "legacy",
      mu: net.urls.mu,
      cu: net.urls.cu,
      gateway: net.urls.gateway,
    });
  });

  it("gives the GitHub secret REGISTRY_PROCESS_ID the real process ID", () => {
    expect(result.github).toEqual({
      owner: "agent-skills",
      repository: "agent-skills-cli",
      secretName: "REGISTRY_PROCESS_ID",
      value: result.outputs.processId,
    });
  });

  it("the process in the secret answers a dry-run Info with the deployed code's hash", async () => {
    expect((await info(result.github.value!))["Code-Sha256"]).toBe(result.outputs.codeSha256);
  });

  it("its outputs configure a CLI build", () => {
    const config = toCliConfig(JSON.stringify(result.outputs), "dev");
    expect(config.processId).toBe(result.outputs.processId);
    expect(config.endpoints).toEqual({
      network: "legacy",
      mu: net.urls.mu,
      cu: net.urls.cu,
      gateway: net.urls.gateway,
    });
  });
});

describe("rollback by adoption (what rollback.yml runs), through the same host", () => {
  it("points the stack and the secret back at the previous process without spawning one", async () => {
    const next = await deployLocal();
    expect(next.outputs.processId).not.toBe(result.outputs.processId);

    const t0 = performance.now();
    // "=" form: a process ID may start with "-", which would read as an option.
    const back = await deployLocal(`--adopt=${result.outputs.processId!}`);
    const seconds = (performance.now() - t0) / 1000;
    console.log(
      `rollback by adoption on the local network: ${seconds.toFixed(1)} s (program, host, Eval, verify)`,
    );

    expect(back.outputs.processId).toBe(result.outputs.processId);
    expect(back.github.value).toBe(result.outputs.processId);
    expect(back.outputs.deploymentId).not.toBe(result.outputs.deploymentId);
    expect((await info(result.outputs.processId!))["Code-Sha256"]).toBe(back.outputs.codeSha256);
  }, 300_000);
});

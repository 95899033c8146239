import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { AOS_MODULE_ID } from "../../devnet/modules";
import { ensureNetwork, type NetworkHandle, networkAnswers } from "../../scripts/lib/localNetwork";
import { tempDataDir } from "../support/devnet";
import { EMPTY_ENV_WALLET, testWallet } from "../support/wallets";

const REPO = join(__dirname, "..", "..");

describe("deploy:dev starts the local network when it is not running", () => {
  const dataDir = tempDataDir("deploy-dev-");
  let started: NetworkHandle;

  afterAll(() => {
    if (started?.startedPid) process.kill(started.startedPid, "SIGTERM");
  });

  it("starts it detached, waits for a network.json whose URLs answer, then reuses it", async () => {
    started = await ensureNetwork({ repoRoot: REPO, dataDir, port: 0, log: () => {} });
    const pid = started.startedPid;
    expect(pid).toBeGreaterThan(0);
    expect(readFileSync(join(dataDir, "devnet.pid"), "utf8").trim()).toBe(String(pid));
    expect(started.info.modules.map((m) => m.id)).toContain(AOS_MODULE_ID);
    expect(await networkAnswers(started.info)).toBe(true);

    const again = await ensureNetwork({ repoRoot: REPO, dataDir, port: 0, log: () => {} });
    expect(again.startedPid).toBeUndefined();
    expect(again.info.urls).toEqual(started.info.urls);
  }, 120_000);

  it("`npm run -s deploy:dev -- --json` prints only the stack outputs, one JSON object that scripts can parse", async () => {
    const dir = mkdtempSync(join(tmpdir(), "deploy-dev-json-"));
    const wallet = join(dir, "wallet.json");
    const deployer = testWallet("deploy-dev-json");
    writeFileSync(wallet, JSON.stringify(deployer.jwk), { mode: 0o600 });
    const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) =>
      execFile(
        "npm",
        [
          "run",
          "-s",
          "deploy:dev",
          "--",
          "--json",
          "--local-engine",
          "--network-file",
          join(dataDir, "network.json"),
          "--wallet",
          wallet,
          "--state",
          join(dir, "state"),
        ],
        { cwd: REPO, encoding: "utf8", env: { ...process.env, ...EMPTY_ENV_WALLET }, timeout: 240_000 },
        (err, stdout, stderr) =>
          err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve({ stdout, stderr }),
      ),
    );
    const outputs = JSON.parse(stdout) as Record<string, unknown>;
    expect(outputs.processId).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(outputs.owner).toBe(deployer.address);
    // The dev stack's default network: mainnet, through the local network's HyperBEAM front door.
    expect(outputs.network).toBe("mainnet");
    expect(outputs.endpoints).toEqual({ network: "mainnet", node: started.info.urls.node });
    expect(stderr).toMatch(/^Deploying with the local engine/);
  }, 300_000);
});

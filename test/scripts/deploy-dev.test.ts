import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { AOS_MODULE_ID } from "../../devnet/modules";
import { describeNetwork } from "../../devnet/networkFile";
import { memory64Flags } from "../../devnet/nodeVersions.cjs";
import { devStackEnv } from "../../scripts/lib/devStack";
import { ensureDevWallet } from "../../scripts/lib/devWallet";
import { devnetCommand, networkAnswers } from "../../scripts/lib/localNetwork";
import { DEV_PASSPHRASE } from "../../scripts/lib/passphrase";
import { pulumiCandidates } from "../../scripts/lib/pulumiCli";
import { closedPort } from "../support/ports";
import { testWallet } from "../support/wallets";

const REPO = join(__dirname, "..", "..");

/** `scripts/deploy-dev.ts <args>` with only node on PATH and an empty HOME: no Pulumi CLI anywhere. */
function deployWithoutCli(args: string[]) {
  const home = mkdtempSync(join(tmpdir(), "no-pulumi-home-"));
  const r = spawnSync(
    process.execPath,
    ["--import", "tsx", "scripts/deploy-dev.ts", ...args, "--state", join(home, "state")],
    {
      cwd: REPO,
      env: { PATH: dirname(process.execPath), HOME: home },
      encoding: "utf8",
      timeout: 200_000,
    },
  );
  return { ...r, home };
}

describe("deploy:dev without a Pulumi CLI", () => {
  it("says so in one line and runs the local engine, whose configuration fixes are edits of Pulumi.dev.yaml", () => {
    const r = deployWithoutCli(["--preview", "--config", "scheduler=x"]);
    expect(r.status).toBe(1);
    const lines = r.stderr.trim().split("\n");
    expect(lines[0]).toMatch(
      /^The Pulumi CLI is missing.*; deploying with the local engine instead \(.*state in /,
    );
    expect(lines.filter((l) => /Pulumi CLI/.test(l))).toHaveLength(1);
    // The program's configuration error, with the fix as the edit to make, and no stack trace.
    expect(r.stderr).toContain('aoRegistry:scheduler "x" is not an Arweave ID');
    expect(r.stderr).toContain(
      "in Pulumi.dev.yaml, under `config:`, set `aoRegistry:scheduler: <43-character ID>`",
    );
    expect(r.stderr).not.toContain("pulumi config set");
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(r.stderr).not.toContain("starting the local AO network");
  });
});

describe("deploy:dev checks the files its flags name before anything runs, in one line each", () => {
  it("--network-file naming a missing file: names the flag, and how to start a network that writes it", () => {
    const missing = join(mkdtempSync(join(tmpdir(), "no-network-")), "net", "network.json");
    const r = deployWithoutCli(["--network-file", missing]);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split("\n")).toEqual([
      `error: --network-file ${missing}: no such file; start a network that writes it (npm run devnet -- --data ${dirname(missing)}), or leave out --network-file and deploy:dev starts one`,
    ]);
  });

  it("--wallet naming broken JSON: names the flag and the fix, not AO_WALLET_FILE, and echoes no key material", () => {
    const dir = mkdtempSync(join(tmpdir(), "bad-wallet-"));
    const file = join(dir, "wallet.json");
    // A generated test wallet, cut short: broken JSON that still holds key material.
    const jwk = testWallet("deploy-dev-broken").jwk;
    writeFileSync(file, JSON.stringify(jwk).slice(0, -40));
    const r = deployWithoutCli(["--preview", "--wallet", file]);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split("\n")).toEqual([
      `error: --wallet ${file} is not valid JSON: it must hold an Arweave wallet (JWK) as JSON; pass the path of an Arweave wallet JSON (JWK), or leave out --wallet to use the dev wallet`,
    ]);
    expect(r.stderr).not.toContain("AO_WALLET_FILE");
    expect(r.stderr).not.toContain(jwk.d!.slice(0, 32));
    expect(r.stderr).not.toContain(jwk.n.slice(0, 32));
  });

  it("--port out of range or not a number: one line naming the values it takes", () => {
    for (const bad of ["70000", "x", "-1"]) {
      const r = deployWithoutCli([`--port=${bad}`]);
      expect(r.status).toBe(1);
      expect(r.stderr.trim()).toBe(
        `error: --port ${bad}: use a port number from 1 to 65535, or 0 for any free one`,
      );
    }
  });
});

describe("finding the Pulumi CLI", () => {
  it("prefers PATH, then ~/.pulumi/bin, then the npm launcher", () => {
    const exists = new Set([
      "/usr/local/bin/pulumi",
      "/home/u/.pulumi/bin/pulumi",
      "/repo/node_modules/.bin/pulumi",
    ]);
    const c = pulumiCandidates({ PATH: "/usr/bin:/usr/local/bin", HOME: "/home/u" }, "/repo", (f) =>
      exists.has(f),
    );
    expect(c).toEqual([
      { command: "/usr/local/bin/pulumi", source: "PATH" },
      { command: "/home/u/.pulumi/bin/pulumi", source: "~/.pulumi/bin" },
      { command: "/repo/node_modules/.bin/pulumi", source: "npm launcher" },
    ]);
    expect(pulumiCandidates({ PATH: "/usr/bin" }, "/repo", () => false)).toEqual([]);
  });
});

describe("the dev stack's environment", () => {
  it("uses local file state, the dev-only passphrase and the dev wallet, unless the user chose otherwise", () => {
    const env = devStackEnv("/repo", { PATH: "/bin" });
    expect(env).toMatchObject({
      PATH: "/bin",
      PULUMI_BACKEND_URL: "file:///repo/.pulumi-state",
      PULUMI_CONFIG_PASSPHRASE: DEV_PASSPHRASE,
      AO_WALLET_FILE: "/repo/.devnet-data/dev-wallet.json",
    });
    const mine = devStackEnv("/repo", {
      PULUMI_BACKEND_URL: "s3://b",
      PULUMI_CONFIG_PASSPHRASE_FILE: "/p",
      AO_WALLET_JWK: "{}",
    });
    expect(mine.PULUMI_BACKEND_URL).toBe("s3://b");
    expect(mine.PULUMI_CONFIG_PASSPHRASE).toBeUndefined();
    expect(mine.AO_WALLET_FILE).toBeUndefined();
    // The design's deploy script's variable names the user's wallet too: no dev wallet in its place.
    expect(devStackEnv("/repo", { ARWEAVE_WALLET_JWK: "{}" }).AO_WALLET_FILE).toBeUndefined();
  });

  it("keeps .pulumi-state, .devnet-data and wallets out of git", () => {
    const ignore = readFileSync(join(REPO, ".gitignore"), "utf8");
    for (const entry of [".pulumi-state/", ".devnet-data/"]) expect(ignore).toContain(entry);
    const r = spawnSync("git", ["check-ignore", ".devnet-data/dev-wallet.json", ".pulumi-state/x", ".env"], {
      cwd: REPO,
      encoding: "utf8",
    });
    expect(r.stdout.trim().split("\n")).toHaveLength(3);
  });
});

describe("starting the local network", () => {
  it("runs exactly what `npm run devnet` runs", () => {
    const script = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")).scripts.devnet as string;
    const [, ...args] = devnetCommand(REPO, 4000, "/data");
    // The script goes through the launcher, which adds the memory64 flag this Node.js needs.
    const direct = ["node", ...memory64Flags(process.version)].join(" ");
    expect(`node ${args.join(" ")}`).toBe(
      `${script.replace("node scripts/node-launcher.cjs", direct).replace("devnet/cli.ts", join(REPO, "devnet", "cli.ts"))} --port 4000 --data /data`,
    );
  });

  it("sees that a network file's URLs do not answer", async () => {
    // What the network writes (its own function), at a port where nothing listens.
    const info = describeNetwork(
      `http://127.0.0.1:${await closedPort()}`,
      [{ id: AOS_MODULE_ID, aosVersion: "2.0.4" }],
      "L".repeat(43),
    );
    expect(await networkAnswers(info, 500)).toBe(false);
  });
});

describe("the dev wallet", () => {
  it("is created once, readable by its owner only, and kept afterwards", () => {
    const file = join(mkdtempSync(join(tmpdir(), "dev-wallet-")), "nested", "dev-wallet.json");
    const lines: string[] = [];
    const address = ensureDevWallet(file, "/state", (l) => lines.push(l));
    expect(address).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(lines).toHaveLength(1);
    expect(ensureDevWallet(file, "/state", (l) => lines.push(l))).toBe(address);
    expect(lines).toHaveLength(1);
  });
});

describe("a damaged dev wallet", () => {
  it("is one line naming the file and the fix (delete it, and the dev stack's state), never the parser's position", () => {
    const dir = mkdtempSync(join(tmpdir(), "dev-wallet-"));
    const file = join(dir, "dev-wallet.json");
    ensureDevWallet(file, "/state", () => {});
    writeFileSync(file, readFileSync(file, "utf8").slice(0, 500));
    expect(() => ensureDevWallet(file, join(dir, "state"), () => {})).toThrow(
      new RegExp(
        `^the dev wallet ${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} is not valid JSON: .*; delete it and run again to create a new one; the dev stack's processes belong to the old one, so delete its state too \\(.*state: the dev stack is disposable\\)$`,
      ),
    );
    expect(() => ensureDevWallet(file, "/state", () => {})).not.toThrow(/position/);
  });
});

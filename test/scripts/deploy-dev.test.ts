import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { AOS_MODULE_ID } from "../../devnet/modules";
import { describeNetwork } from "../../devnet/networkFile";
import { memory64Flags } from "../../devnet/nodeVersions.cjs";
import { devnetCommand, ensureDevWallet, networkAnswers } from "../../scripts/deploy-dev";
import { devStackEnv } from "../../scripts/lib/devStack";
import { DEV_PASSPHRASE } from "../../scripts/lib/passphrase";
import { pulumiCandidates } from "../../scripts/lib/pulumiCli";

const REPO = join(__dirname, "..", "..");

describe("deploy:dev without a Pulumi CLI", () => {
  it("says so in one line and runs the local engine, whose configuration fixes are edits of Pulumi.dev.yaml", () => {
    const home = mkdtempSync(join(tmpdir(), "no-pulumi-home-"));
    const missing = join(home, "no-network", "network.json");
    const r = spawnSync(
      process.execPath,
      [
        "--import",
        "tsx",
        "scripts/deploy-dev.ts",
        "--preview",
        "--network-file",
        missing,
        "--state",
        join(home, "state"),
      ],
      {
        cwd: REPO,
        // Only node itself on PATH; an empty HOME: no ~/.pulumi/bin.
        env: { PATH: dirname(process.execPath), HOME: home },
        encoding: "utf8",
        timeout: 200_000,
      },
    );
    expect(r.status).toBe(1);
    const lines = r.stderr.trim().split("\n");
    expect(lines[0]).toMatch(
      /^The Pulumi CLI is missing.*; deploying with the local engine instead \(.*state in /,
    );
    expect(lines.filter((l) => /Pulumi CLI/.test(l))).toHaveLength(1);
    // The program's configuration error, with the fix as the edit to make, and no stack trace.
    expect(r.stderr).toContain(`${missing} does not exist`);
    expect(r.stderr).toContain(
      "in Pulumi.dev.yaml, under `config:`, set `aoRegistry:networkFile: <path>/network.json`",
    );
    expect(r.stderr).not.toContain("pulumi config set");
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(r.stderr).not.toContain("starting the local AO network");
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
      "http://127.0.0.1:9",
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
    const address = ensureDevWallet(file, (l) => lines.push(l));
    expect(address).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(lines).toHaveLength(1);
    expect(ensureDevWallet(file, (l) => lines.push(l))).toBe(address);
    expect(lines).toHaveLength(1);
  });
});

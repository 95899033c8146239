import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type Io, main, mergeDotEnv, OutputsError, toCliConfig, toDotEnv } from "../../scripts/outputs";
import { thrown } from "../support/thrown";

const REPO = join(__dirname, "..", "..");
const PROCESS = "Pr0cess_Id-0123456789abcdefghijklmnopqrstuv";
const MODULE = "ISShJH1ij-hPPt9St5UFFr_8Ys3Kj5cyg7zrMGt7H9s";
const SCHEDULER = "_GQ33BkPtZrqxA84vM8Zk-N2aO0toNNu_C-l-rawrBA";
const AUTHORITY = "fcoN_xJeisVsPXA-trzVAuIiqO3ydLQxM-L4XbrQKzY";
const OWNER = "0wner_address-0123456789abcdefghijklmnopqrs";
const SHA = "a".repeat(64);

/** What `pulumi stack output --json` prints for a deployed production stack. */
const sample = {
  authority: AUTHORITY,
  codeSha256: SHA,
  deployedAt: "2026-11-27T03:00:00.000Z",
  deploymentId: "dep-1",
  endpoints: {
    cu: "https://cu.ao-testnet.xyz",
    gateway: "https://arweave.net",
    mu: "https://mu.ao-testnet.xyz",
    network: "legacy",
  },
  githubSecret: "agent-skills/agent-skills-cli:REGISTRY_PROCESS_ID",
  module: MODULE,
  owner: OWNER,
  processId: PROCESS,
  scheduler: SCHEDULER,
};

const errorOf = (fn: () => unknown): string => thrown(fn, OutputsError).message;

describe("toCliConfig", () => {
  it("shapes the stack outputs for a CLI build", () => {
    expect(toCliConfig(JSON.stringify(sample), "production")).toEqual({
      stack: "production",
      processId: PROCESS,
      codeSha256: SHA,
      module: MODULE,
      scheduler: SCHEDULER,
      authority: AUTHORITY,
      owner: OWNER,
      network: "legacy",
      endpoints: sample.endpoints,
      deployedAt: sample.deployedAt,
    });
  });

  it("carries the network mode a CLI connects in, and refuses one that disagrees with the endpoints", () => {
    const mainnet = { network: "mainnet", node: "https://push.forward.computer" };
    expect(
      toCliConfig(JSON.stringify({ ...sample, network: "mainnet", endpoints: mainnet }), "p").network,
    ).toBe("mainnet");
    // Outputs written before the `network` output: the endpoints say it.
    expect(toCliConfig(JSON.stringify({ ...sample, endpoints: mainnet }), "p").network).toBe("mainnet");
    expect(errorOf(() => toCliConfig(JSON.stringify({ ...sample, network: "mainnet" }), "p"))).toContain(
      "network mainnet disagrees with endpoints (legacy)",
    );
  });

  it("says the stack has not been deployed when it has no outputs", () => {
    const m = errorOf(() => toCliConfig("{}", "production"));
    expect(m).toContain("Stack 'production' has no outputs: it has not been deployed yet");
    expect(m).toContain("pulumi up --stack production");
    expect(errorOf(() => toCliConfig("{}\n", "dev"))).toContain("npm run deploy:dev");
  });

  it("says the stack has no process yet when processId is absent", () => {
    const { processId: _, ...rest } = sample;
    expect(errorOf(() => toCliConfig(JSON.stringify(rest), "production"))).toContain(
      "Stack 'production' has no process yet",
    );
    expect(errorOf(() => toCliConfig(JSON.stringify({ ...sample, processId: "" }), "production"))).toContain(
      "has no process yet",
    );
  });

  it("rejects output that is not JSON or not an object", () => {
    expect(errorOf(() => toCliConfig("error: no stack named 'x' found", "x"))).toContain("are not JSON");
    expect(errorOf(() => toCliConfig("[]", "x"))).toContain("not a JSON object");
  });

  it("lists every malformed output", () => {
    const m = errorOf(() =>
      toCliConfig(
        JSON.stringify({
          ...sample,
          processId: "short",
          codeSha256: "[secret]",
          endpoints: { mu: "ftp://x", cu: "https://cu" },
        }),
        "production",
      ),
    );
    expect(m).toContain('processId "short" is not an Arweave ID: expected 43 characters');
    expect(m).toContain("codeSha256 is a secret");
    expect(m).not.toContain('codeSha256 "[secret]"'); // said once, as a secret
    expect(m).toContain('endpoints.mu "ftp://x" uses ftp:');
    expect(m).toContain("endpoints.gateway undefined is missing");
  });

  it("applies the stack config's URL rule: plain http only on loopback", () => {
    const endpoints = { ...sample.endpoints, cu: "http://cu.example" };
    expect(errorOf(() => toCliConfig(JSON.stringify({ ...sample, endpoints }), "production"))).toContain(
      'endpoints.cu "http://cu.example" must use https',
    );
  });

  it("flags outputs of an older program without endpoints", () => {
    const { endpoints: _, ...rest } = sample;
    expect(errorOf(() => toCliConfig(JSON.stringify(rest), "production"))).toMatch(
      /endpoints undefined must be \{ mu, cu, gateway \} URLs/,
    );
  });

  it("reads endpoints written before they named their network as legacy", () => {
    const { network: _, ...legacy } = sample.endpoints;
    expect(toCliConfig(JSON.stringify({ ...sample, endpoints: legacy }), "production").endpoints).toEqual(
      sample.endpoints,
    );
  });
});

describe(".env", () => {
  const config = toCliConfig(JSON.stringify(sample), "production");

  it("carries the process ID and the endpoints", () => {
    expect(toDotEnv(config)).toBe(
      [
        `REGISTRY_PROCESS_ID=${PROCESS}`,
        `REGISTRY_CODE_SHA256=${SHA}`,
        "REGISTRY_STACK=production",
        "AO_NETWORK=legacy",
        "AO_MU_URL=https://mu.ao-testnet.xyz",
        "AO_CU_URL=https://cu.ao-testnet.xyz",
        "AO_GATEWAY_URL=https://arweave.net",
        `AO_MODULE=${MODULE}`,
        `AO_SCHEDULER=${SCHEDULER}`,
        `AO_AUTHORITY=${AUTHORITY}`,
        "",
      ].join("\n"),
    );
  });

  it("carries a mainnet node's URL for a stack on AO mainnet", () => {
    const endpoints = { network: "mainnet", node: "https://push.forward.computer" };
    const env = toDotEnv(toCliConfig(JSON.stringify({ ...sample, endpoints }), "production"));
    expect(env).toContain("AO_NETWORK=mainnet\nAO_NODE_URL=https://push.forward.computer\n");
    expect(env).not.toContain("AO_MU_URL");
    const merged = mergeDotEnv(toDotEnv(config), toCliConfig(JSON.stringify({ ...sample, endpoints }), "x"));
    expect(merged).not.toMatch(/AO_(MU|CU|GATEWAY)_URL/);
  });

  it("replaces its own variables in an existing .env and keeps the others", () => {
    const merged = mergeDotEnv(
      "# mine\nNPM_TOKEN=keep\nREGISTRY_PROCESS_ID=old\nexport AO_CU_URL=old\n",
      config,
    );
    expect(merged.startsWith("# mine\nNPM_TOKEN=keep\nREGISTRY_PROCESS_ID=")).toBe(true);
    expect(merged).not.toContain("=old");
    expect(merged.match(/REGISTRY_PROCESS_ID=/g)).toHaveLength(1);
  });
});

describe("main", () => {
  function io(over: Partial<Io> = {}) {
    const out: string[] = [];
    const err: string[] = [];
    const cwd = mkdtempSync(join(tmpdir(), "outputs-"));
    const value: Io = {
      cwd,
      env: {},
      readStdin: () => JSON.stringify(sample),
      stdout: (t) => out.push(t),
      stderr: (t) => err.push(t),
      stackOutput: () => {
        throw new Error("pulumi must not run in this test");
      },
      ...over,
    };
    return { io: value, out, err, cwd };
  }

  it("writes .env and the JSON config from --from-file", () => {
    const t = io();
    writeFileSync(join(t.cwd, "outputs.json"), JSON.stringify(sample));
    expect(main(["--stack", "production", "--from-file", "outputs.json"], t.io)).toBe(0);
    expect(readFileSync(join(t.cwd, ".env"), "utf8")).toContain(`REGISTRY_PROCESS_ID=${PROCESS}\n`);
    expect(JSON.parse(readFileSync(join(t.cwd, "registry.config.json"), "utf8")).processId).toBe(PROCESS);
  });

  it("reads stdin and prints instead of writing with --print", () => {
    const t = io();
    expect(main(["--stack", "production", "--stdin", "--print", "json"], t.io)).toBe(0);
    expect(JSON.parse(t.out.join("")).endpoints.cu).toBe("https://cu.ao-testnet.xyz");
    const e = io();
    expect(main(["--stack", "production", "--stdin", "--print", "env"], e.io)).toBe(0);
    expect(e.out.join("")).toMatch(/^REGISTRY_PROCESS_ID=/);
  });

  it("asks pulumi for the stack's outputs by default", () => {
    const asked: string[] = [];
    const t = io({
      stackOutput: (s) => {
        asked.push(s);
        return JSON.stringify(sample);
      },
    });
    expect(main(["--stack", "production", "--print", "env"], t.io)).toBe(0);
    expect(asked).toEqual(["production"]);
  });

  it("exits 1 with the reason when the stack has no process", () => {
    const t = io({ readStdin: () => "{}" });
    expect(main(["--stack", "production", "--stdin"], t.io)).toBe(1);
    expect(t.err.join("")).toContain("has not been deployed yet");
  });

  it("exits 1 with pulumi's own error, e.g. when the CLI is missing", () => {
    const t = io({
      stackOutput: () => {
        throw new Error("The Pulumi CLI is missing");
      },
    });
    expect(main(["--stack", "production"], t.io)).toBe(1);
    expect(t.err.join("")).toContain("The Pulumi CLI is missing");
  });

  it("exits 2 on usage errors", () => {
    expect(main([], io().io)).toBe(2);
    expect(main(["--stack", "x", "--print", "yaml"], io().io)).toBe(2);
    expect(main(["--stack", "x", "--bogus"], io().io)).toBe(2);
  });
});

describe("the npm entry point", () => {
  it("runs as a script and turns a sample file into .env", () => {
    const dir = mkdtempSync(join(tmpdir(), "outputs-cli-"));
    writeFileSync(join(dir, "o.json"), JSON.stringify(sample));
    const r = spawnSync(
      process.execPath,
      [
        "--import",
        "tsx",
        "scripts/outputs.ts",
        "--stack",
        "production",
        "--from-file",
        join(dir, "o.json"),
        "--print",
        "env",
      ],
      { cwd: REPO, encoding: "utf8" },
    );
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`REGISTRY_PROCESS_ID=${PROCESS}`);
  });
});

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AOS_MODULE_ID } from "../../devnet/modules";
import { describeNetwork, writeNetworkFile } from "../../devnet/networkFile";
import { STACK_OUTPUT_NAMES, stackOutputsSchema } from "../../infra/stackOutputs";
import { testWallet } from "../support/wallets";
import {
  ACTIONS_SECRET_TYPE,
  ACTIVE_PROCESS_TYPE,
  AO_PROCESS_TYPE,
  GITHUB_PROVIDER_TYPE,
  MOCK_OWNER,
  MOCK_PROCESS_ID,
  ns,
  type Registration,
  runProgram,
  stackConfig,
  UNKNOWN,
} from "./support/program";

/** @pulumi/pulumi's marker for a secret value in serialized properties. */
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const isSecret = (v: unknown) =>
  typeof v === "object" && v !== null && (v as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;
const unwrap = (v: unknown) => (isSecret(v) ? (v as { value: unknown }).value : v);

const GITHUB_TOKEN = "ghp_programTestToken0123456789abcdefABCDEF";

const LOCAL = "http://127.0.0.1:4555";
const LOCAL_ADDRESS = "devnetAddress_0123456789abcdefghijklmnopqrs";

/** A network.json as the local network writes it (its own functions), serving `module`. */
function devNetworkFile(module = AOS_MODULE_ID): string {
  const file = join(mkdtempSync(join(tmpdir(), "infra-dev-")), "network.json");
  writeNetworkFile(file, describeNetwork(LOCAL, [{ id: module, aosVersion: "2.0.4" }], LOCAL_ADDRESS));
  return file;
}

const devConfig = () => ({ ...stackConfig("dev"), [ns("networkFile")]: devNetworkFile() });

function only(rs: Registration[]): Registration {
  expect(rs).toHaveLength(1);
  return rs[0]!;
}

/** Production is on AO mainnet (Pulumi.production.yaml). */
const MAINNET = { network: "mainnet", node: "https://push.forward.computer" };
const MAINNET_SCHEDULER = "n_XZJhUnmldNFo4dhajoPZWhBXuJk-OcQr5JQ49c4Zo";

describe.each([false, true])("production stack (preview: %s)", (preview) => {
  const run = () =>
    runProgram({ stack: "production", config: stackConfig("production"), preview, env: { GITHUB_TOKEN } });

  it("declares the registry process, the active process, a GitHub provider and the REGISTRY_PROCESS_ID secret, nothing else", async () => {
    const r = await run();
    expect(r.registrations.map((x) => x.type).sort()).toEqual(
      [ACTIONS_SECRET_TYPE, ACTIVE_PROCESS_TYPE, AO_PROCESS_TYPE, GITHUB_PROVIDER_TYPE].sort(),
    );
  });

  it("opts the registry in to state transfer and names it through the active process", async () => {
    const r = await run();
    expect(only(r.byType(AO_PROCESS_TYPE)).inputs.stateTransfer).toBe(true);
    const active = only(r.byType(ACTIVE_PROCESS_TYPE));
    expect(active.name).toBe("registry-active");
    expect(active.inputs.acceptDataLoss).toBe(false);
    if (!preview) {
      expect(active.inputs.processId).toBe(MOCK_PROCESS_ID);
      expect(active.inputs.owner).toBe(MOCK_OWNER);
      expect(active.inputs.endpoints).toEqual(MAINNET);
    }
  });

  it("gives the AoProcess the production inputs and the bundled registry code", async () => {
    const r = await run();
    const p = only(r.byType(AO_PROCESS_TYPE));
    expect(p.name).toBe("registry");
    expect(p.inputs).toMatchObject({
      module: AOS_MODULE_ID,
      scheduler: MAINNET_SCHEDULER,
      authority: MAINNET_SCHEDULER,
      name: "Skills Registry Process",
      tags: { "App-Name": "Agent-Skills-Registry" },
      endpoints: MAINNET,
      upgrade: "replace",
    });
    expect(p.inputs.adoptProcessId).toBeUndefined();
    expect(typeof p.inputs.code).toBe("string");
    expect(p.inputs.code).toContain("Handlers");
    expect(typeof p.inputs.__provider).toBe("string");
  });

  it("writes the secret through the explicit GitHub provider, with the token kept secret", async () => {
    const r = await run();
    const provider = only(r.byType(GITHUB_PROVIDER_TYPE));
    expect(provider.name).toBe("cli-repository");
    expect(provider.inputs.owner).toBe("agent-skills");
    expect(isSecret(provider.inputs.token)).toBe(true);
    expect(unwrap(provider.inputs.token)).toBe(GITHUB_TOKEN);

    const secret = only(r.byType(ACTIONS_SECRET_TYPE));
    expect(secret.provider).toContain("pulumi:providers:github::cli-repository");
    expect(secret.inputs.repository).toBe("agent-skills-cli");
    expect(secret.inputs.secretName).toBe("REGISTRY_PROCESS_ID");
    if (preview)
      expect(unwrap(secret.inputs.value)).toMatchObject({ __pulumiUnknown: true }); // known once spawned
    else expect(unwrap(secret.inputs.value)).toBe(MOCK_PROCESS_ID);
  });

  it("exports what a CLI build needs, endpoints from config", async () => {
    const r = await run();
    expect(r.outputs).toMatchObject({
      module: AOS_MODULE_ID,
      scheduler: MAINNET_SCHEDULER,
      authority: MAINNET_SCHEDULER,
      endpoints: MAINNET,
      githubSecret: "agent-skills/agent-skills-cli:REGISTRY_PROCESS_ID",
    });
    if (preview) {
      expect(r.outputs.processId).toBe(UNKNOWN);
      expect(r.outputs.owner).toBe(UNKNOWN);
    } else {
      expect(r.outputs.processId).toBe(MOCK_PROCESS_ID);
      expect(r.outputs.owner).toBe(MOCK_OWNER);
      expect(r.outputs.codeSha256).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it("exports exactly the stack outputs infra/stackOutputs.ts lists, which read back through its schema", async () => {
    const r = await run();
    expect(Object.keys(r.outputs).sort()).toEqual([...STACK_OUTPUT_NAMES].sort());
    if (!preview) {
      const printed = JSON.parse(JSON.stringify(r.outputs)); // what `pulumi stack output --json` prints
      expect(stackOutputsSchema.safeParse(printed).error?.issues).toBeUndefined();
    }
  });
});

describe("every registry output comes from the active process", () => {
  it("names the process the active process reports, not the AoProcess's, until a move completes", async () => {
    const previous = "previousProcess_0123456789abcdefghijklmnopq";
    const r = await runProgram({
      stack: "production",
      config: stackConfig("production"),
      preview: false,
      env: { GITHUB_TOKEN },
      activeState: { processId: previous, codeSha256: "c".repeat(64), deploymentId: "previous-deployment" },
    });
    // The AoProcess already names its new process, and the active process is handed that one...
    only(r.byType(AO_PROCESS_TYPE));
    expect(only(r.byType(ACTIVE_PROCESS_TYPE)).inputs.processId).toBe(MOCK_PROCESS_ID);
    // ...but what the stack publishes is what the active process reports: the previous one.
    expect(r.outputs).toMatchObject({
      processId: previous,
      codeSha256: "c".repeat(64),
      deploymentId: "previous-deployment",
    });
    expect(unwrap(only(r.byType(ACTIONS_SECRET_TYPE)).inputs.value)).toBe(previous);
  });
});

describe("production without a GitHub token", () => {
  it("still previews: nothing is written to GitHub in a preview", async () => {
    const r = await runProgram({ stack: "production", config: stackConfig("production"), preview: true });
    const provider = only(r.byType(GITHUB_PROVIDER_TYPE));
    expect(provider.inputs.token).toBeUndefined();
  });

  it("refuses to update, naming GITHUB_TOKEN and the --secret config fix", async () => {
    await expect(
      runProgram({ stack: "production", config: stackConfig("production"), preview: false }),
    ).rejects.toThrow(
      /no GitHub token: export GITHUB_TOKEN, or pulumi config set --secret aoRegistry:githubToken/,
    );
  });

  it("takes the token from secret config", async () => {
    const r = await runProgram({
      stack: "production",
      config: { ...stackConfig("production"), [ns("githubToken")]: GITHUB_TOKEN },
      secretKeys: [ns("githubToken")],
      preview: false,
    });
    const provider = only(r.byType(GITHUB_PROVIDER_TYPE));
    expect(isSecret(provider.inputs.token)).toBe(true);
    expect(unwrap(provider.inputs.token)).toBe(GITHUB_TOKEN);
  });
});

describe.each([false, true])("dev stack (preview: %s)", (preview) => {
  it("deploys to the local network from network.json and creates nothing for GitHub", async () => {
    const r = await runProgram({ stack: "dev", config: devConfig(), preview, env: { GITHUB_TOKEN } });
    expect(r.registrations.map((x) => x.type)).toEqual([AO_PROCESS_TYPE, ACTIVE_PROCESS_TYPE]);
    const p = only(r.byType(AO_PROCESS_TYPE));
    expect(p.inputs).toMatchObject({
      module: AOS_MODULE_ID,
      scheduler: LOCAL_ADDRESS,
      authority: LOCAL_ADDRESS,
      endpoints: { network: "mainnet", node: LOCAL },
    });
    // Mainnet mode by default, so that development matches production.
    expect(r.outputs.network).toBe("mainnet");
    expect(r.outputs.endpoints).toEqual({ network: "mainnet", node: LOCAL });
    expect(r.outputs.githubSecret).toBeUndefined();
  });
});

describe("rollback: adopting a previous process", () => {
  it("passes the process to adopt and exports it as the process ID", async () => {
    const previous = "previousProcess_0123456789abcdefghijklmnopq";
    const r = await runProgram({
      stack: "production",
      config: { ...stackConfig("production"), [ns("adoptProcessId")]: previous },
      preview: false,
      env: { GITHUB_TOKEN },
    });
    expect(only(r.byType(AO_PROCESS_TYPE)).inputs.adoptProcessId).toBe(previous);
    expect(unwrap(only(r.byType(ACTIONS_SECRET_TYPE)).inputs.value)).toBe(previous);
    expect(r.outputs.processId).toBe(previous);
  });
});

describe("configuration errors stop the program before any resource", () => {
  it("names every missing key and its fix", async () => {
    const { [ns("module")]: _, ...config } = stackConfig("production");
    await expect(runProgram({ stack: "production", config, preview: true })).rejects.toThrow(
      /Stack 'production' has a configuration problem:\n {2}- aoRegistry:module is not set.*pulumi config set aoRegistry:module/s,
    );
  });

  it("rejects a malformed value", async () => {
    await expect(
      runProgram({
        stack: "production",
        config: { ...stackConfig("production"), [ns("nodeUrl")]: "push.forward.computer" },
        preview: true,
      }),
    ).rejects.toThrow(/aoRegistry:nodeUrl "push.forward.computer" is not a URL/);
  });

  it("fails the dev stack when the local network is not there, saying how to start it", async () => {
    await expect(
      runProgram({
        stack: "dev",
        config: { ...stackConfig("dev"), [ns("networkFile")]: "/nonexistent/network.json" },
        preview: true,
      }),
    ).rejects.toThrow(/\/nonexistent\/network.json does not exist.*npm run deploy:dev/s);
  });

  it("fails the dev stack when the local network does not serve production's module", async () => {
    const config = {
      ...stackConfig("dev"),
      [ns("networkFile")]: devNetworkFile("SBNb1qPQ1TDwpD_mboxm2YllmMLXpWw4U8P9Ff8W9vk"),
    };
    await expect(runProgram({ stack: "dev", config, preview: true })).rejects.toThrow(
      /is not served by the local network/,
    );
  });

  it("refuses a GitHub token in plain config", async () => {
    await expect(
      runProgram({
        stack: "production",
        config: { ...stackConfig("production"), [ns("githubToken")]: GITHUB_TOKEN },
        preview: true,
      }),
    ).rejects.toThrow(/githubToken is stored in plain text/);
  });
});

describe("no key material in any input", () => {
  const { jwk } = testWallet("infra-program");
  const privateParts = (["d", "p", "q", "dp", "dq", "qi"] as const).map((k) => jwk[k]!).filter(Boolean);

  it.each([
    ["AO_WALLET_JWK", () => ({ AO_WALLET_JWK: JSON.stringify(jwk) })],
    ["ARWEAVE_WALLET_JWK", () => ({ ARWEAVE_WALLET_JWK: JSON.stringify(jwk) })],
    [
      "AO_WALLET_FILE",
      () => {
        const file = join(mkdtempSync(join(tmpdir(), "infra-wallet-")), "wallet.json");
        writeFileSync(file, JSON.stringify(jwk), { mode: 0o600 });
        return { AO_WALLET_FILE: file };
      },
    ],
  ] as const)(
    "with the wallet in %s, no registration (the serialized provider included) carries it",
    async (_n, env) => {
      expect(privateParts.length).toBe(6);
      for (const preview of [true, false]) {
        const r = await runProgram({
          stack: "production",
          config: stackConfig("production"),
          preview,
          env: { ...env(), GITHUB_TOKEN },
        });
        for (const reg of r.registrations) {
          const text = JSON.stringify(reg.inputs);
          for (const part of privateParts)
            expect(text.includes(part), `${reg.type} carries key material`).toBe(false);
          if (reg.type !== GITHUB_PROVIDER_TYPE)
            expect(text.includes(GITHUB_TOKEN), `${reg.type} carries the token`).toBe(false);
        }
        const provider = String(only(r.byType(AO_PROCESS_TYPE)).inputs.__provider);
        expect(provider.length).toBeGreaterThan(1000);
        expect(provider).not.toContain(jwk.n);
      }
    },
  );
});

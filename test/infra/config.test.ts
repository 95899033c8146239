import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { describeNetwork, parseNetworkFile, writeNetworkFile } from "../../devnet/networkFile";
import {
  ConfigError,
  type ConfigKey,
  type ConfigSource,
  DEFAULTS,
  PROJECT,
  REQUIRED_KEYS,
  resolveSettings,
  SECRET_KEYS,
  SECRET_NAME,
} from "../../infra/config";
import type { LegacyEndpoints } from "../../providers/aoValues";
import { thrown } from "../support/thrown";
import { readYaml } from "./support/yaml";

const MODULE = "ISShJH1ij-hPPt9St5UFFr_8Ys3Kj5cyg7zrMGt7H9s";
const SCHEDULER = "_GQ33BkPtZrqxA84vM8Zk-N2aO0toNNu_C-l-rawrBA";
const AUTHORITY = "fcoN_xJeisVsPXA-trzVAuIiqO3ydLQxM-L4XbrQKzY";
const LOCAL_ADDRESS = "L".repeat(43);
const LOCAL = "http://127.0.0.1:4000";

/** What devnet/index.ts writes to network.json (its own function builds the document). */
const network = describeNetwork(LOCAL, [{ id: MODULE, aosVersion: "2.0.4" }], LOCAL_ADDRESS);

function source(
  config: Partial<Record<ConfigKey, string>>,
  opts: {
    stack?: string;
    secret?: ConfigKey[];
    env?: Record<string, string>;
    files?: Record<string, string>;
  } = {},
): ConfigSource {
  return {
    stack: opts.stack ?? "test",
    get: (k) => config[k],
    isSecret: (k) => (opts.secret ?? []).includes(k),
    env: opts.env ?? {},
    resolvePath: (p) => path.resolve("/project", p),
    readFile: (f) => opts.files?.[f],
  };
}

/** The legacy testnet's values (Pulumi.testnet.yaml). */
const production = {
  network: "legacy",
  muUrl: "https://mu.ao-testnet.xyz",
  cuUrl: "https://cu.ao-testnet.xyz",
  gatewayUrl: "https://arweave.net",
  module: MODULE,
  scheduler: SCHEDULER,
  authority: AUTHORITY,
};

const problemsOf = (fn: () => unknown): string[] => thrown(fn, ConfigError).problems;
/** The legacy units of settings that resolved to them. */
const units = (s: { endpoints: unknown }) => s.endpoints as LegacyEndpoints;

describe("resolveSettings: a public network from explicit keys", () => {
  it("returns endpoints, IDs, tags and defaults", () => {
    const s = resolveSettings(source(production));
    expect(s).toEqual({
      stack: "test",
      endpoints: {
        network: "legacy",
        mu: "https://mu.ao-testnet.xyz",
        cu: "https://cu.ao-testnet.xyz",
        gateway: "https://arweave.net",
      },
      module: MODULE,
      scheduler: SCHEDULER,
      authority: AUTHORITY,
      processName: "Skills Registry Process",
      tags: { "App-Name": "Agent-Skills-Registry" },
      upgrade: "replace",
      acceptDataLoss: false,
      movePageBytes: 262144,
      // The legacy gateway serves the preflight's lookups too.
      lookupGateway: "https://arweave.net",
    });
  });

  it("takes movePageBytes from 1 KiB to 512 KiB, naming the fix", () => {
    expect(resolveSettings(source({ ...production, movePageBytes: "1024" })).movePageBytes).toBe(1024);
    for (const bad of ["1023", "524289", "12.5", "lots"])
      expect(() => resolveSettings(source({ ...production, movePageBytes: bad }))).toThrow(
        /aoRegistry:movePageBytes .* must be a whole number of bytes from 1024 to 524288: pulumi config set aoRegistry:movePageBytes 262144/,
      );
  });

  it("takes acceptDataLoss as true or false only, naming the fix", () => {
    expect(resolveSettings(source({ ...production, acceptDataLoss: "true" })).acceptDataLoss).toBe(true);
    expect(() => resolveSettings(source({ ...production, acceptDataLoss: "yes" }))).toThrow(
      /aoRegistry:acceptDataLoss "yes" must be true or false: pulumi config set aoRegistry:acceptDataLoss false/,
    );
  });

  it("treats the empty-string defaults Pulumi applies as unset", () => {
    const s = resolveSettings(
      source({ ...production, authority: "", adoptProcessId: "", githubOwner: "", githubRepository: "" }),
    );
    expect(s.authority).toBeUndefined();
    expect(s.adoptProcessId).toBeUndefined();
    expect(s.github).toBeUndefined();
  });

  it("strips a trailing slash from endpoint URLs", () => {
    expect(units(resolveSettings(source({ ...production, cuUrl: "https://cu.ao-testnet.xyz/" }))).cu).toBe(
      "https://cu.ao-testnet.xyz",
    );
  });

  it("passes the upgrade strategy and the process to adopt", () => {
    const s = resolveSettings(source({ ...production, upgrade: "eval", adoptProcessId: "P".repeat(43) }));
    expect(s.upgrade).toBe("eval");
    expect(s.adoptProcessId).toBe("P".repeat(43));
  });
});

describe("resolveSettings: a local network from network.json", () => {
  const files = { "/project/.devnet-data/network.json": JSON.stringify(network) };

  it("takes the mainnet node (the default network) and scheduler from the file; the authority is the node's to tell", () => {
    const s = resolveSettings(
      source({ networkFile: ".devnet-data/network.json", module: MODULE }, { files }),
    );
    expect(s.endpoints).toEqual({ network: "mainnet", node: LOCAL });
    expect(s.scheduler).toBe(LOCAL_ADDRESS);
    // Not the file's messenger: the provider reads the node's own address when it creates the process.
    expect(s.authority).toBeUndefined();
    expect(s.networkFile).toBe("/project/.devnet-data/network.json");
  });

  it("takes the legacy units from the file when the stack is on the legacy network", () => {
    const s = resolveSettings(
      source({ network: "legacy", networkFile: ".devnet-data/network.json", module: MODULE }, { files }),
    );
    expect(s.endpoints).toEqual({ network: "legacy", mu: LOCAL, cu: LOCAL, gateway: LOCAL });
    expect(s.authority).toBe(LOCAL_ADDRESS);
  });

  it("lets explicit keys override the file", () => {
    const s = resolveSettings(
      source(
        {
          network: "legacy",
          networkFile: ".devnet-data/network.json",
          module: MODULE,
          cuUrl: "http://localhost:9999",
        },
        { files },
      ),
    );
    expect(units(s).cu).toBe("http://localhost:9999");
    expect(units(s).mu).toBe(network.urls.mu);
    const node = resolveSettings(
      source(
        { networkFile: ".devnet-data/network.json", module: MODULE, nodeUrl: "http://localhost:9998" },
        { files },
      ),
    );
    expect(node.endpoints).toEqual({ network: "mainnet", node: "http://localhost:9998" });
  });

  it("fails, naming the key and how to start the network, when the file is missing", () => {
    const problems = problemsOf(() =>
      resolveSettings(source({ networkFile: "nowhere/network.json", module: MODULE })),
    );
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(`${PROJECT}:networkFile`);
    expect(problems[0]).toContain("/project/nowhere/network.json does not exist");
    expect(problems[0]).toContain("npm run deploy:dev");
    expect(problems[0]).toContain(`pulumi config set ${PROJECT}:networkFile`);
  });

  it("fails when the file is not JSON or not a network description", () => {
    const bad = { "/project/n.json": "{ not json" };
    expect(
      problemsOf(() => resolveSettings(source({ networkFile: "n.json", module: MODULE }, { files: bad })))[0],
    ).toMatch(/networkFile: .*n\.json is not valid JSON/);
    const partial = {
      "/project/n.json": JSON.stringify({ urls: { mu: "http://localhost:1" }, modules: [] }),
    };
    const p = problemsOf(() =>
      resolveSettings(source({ networkFile: "n.json", module: MODULE }, { files: partial })),
    );
    expect(p[0]).toContain("urls.cu undefined is missing");
    expect(p[0]).toContain("modules is empty");
    expect(p[0]).toContain("schedulerId undefined is not an Arweave ID");
  });

  it("fails when the pinned module is not one the local network serves", () => {
    const other = "X".repeat(43);
    const p = problemsOf(() =>
      resolveSettings(source({ networkFile: ".devnet-data/network.json", module: other }, { files })),
    );
    expect(p).toEqual([
      expect.stringContaining(`${PROJECT}:module ${other} is not served by the local network`),
    ]);
    expect(p[0]).toContain(MODULE);
  });
});

describe("resolveSettings: clear errors for missing or malformed config", () => {
  it("lists every missing required setting with its fix, at once", () => {
    const p = problemsOf(() => resolveSettings(source({}, { stack: "staging" })));
    const text = p.join("\n");
    for (const k of ["nodeUrl", "module", "scheduler"]) {
      expect(text).toContain(`${PROJECT}:${k} is not set`);
      expect(text).toContain(`pulumi config set ${PROJECT}:${k} `);
    }
    expect(text).toContain("--stack staging");
    // Not the authority: on mainnet the node tells it.
    expect(p).toHaveLength(3);
    const legacy = problemsOf(() => resolveSettings(source({ network: "legacy" }, { stack: "staging" })));
    for (const k of ["muUrl", "cuUrl", "gatewayUrl", "module", "scheduler"])
      expect(legacy.join("\n")).toContain(`${PROJECT}:${k} is not set`);
    expect(legacy).toHaveLength(5);
  });

  it("the error message names the stack and every problem", () => {
    try {
      resolveSettings(source({ ...production, module: "short" }, { stack: "production" }));
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).toMatch(
        /^Stack 'production' has a configuration problem:\n {2}- aoRegistry:module "short"/,
      );
    }
  });

  it.each([
    ["muUrl", "not a url", "is not a URL"],
    ["cuUrl", "ftp://cu.example", "uses ftp:: use https:"],
    ["cuUrl", "https://user:hunter2@cu.example", "contains credentials"],
    ["gatewayUrl", "http://arweave.net", "must use https"],
    ["muUrl", "https://mu.example/?token=1", "must not carry a query"],
  ] as const)("rejects %s = %j", (k, value, message) => {
    const p = problemsOf(() => resolveSettings(source({ ...production, [k]: value })));
    expect(p).toEqual([expect.stringContaining(message)]);
    expect(p[0]).toContain(`${PROJECT}:${k}`);
    expect(p[0]).not.toContain("hunter2");
  });

  it.each(["module", "scheduler", "authority", "adoptProcessId"] as const)("rejects a malformed %s", (k) => {
    const p = problemsOf(() => resolveSettings(source({ ...production, [k]: "not-an-id" })));
    expect(p).toEqual([expect.stringContaining(`${PROJECT}:${k} "not-an-id" is not an Arweave`)]);
  });

  it("rejects an unknown upgrade strategy", () => {
    const p = problemsOf(() => resolveSettings(source({ ...production, upgrade: "patch" })));
    expect(p[0]).toContain(`${PROJECT}:upgrade "patch" is not an upgrade strategy: use "replace"`);
  });

  it("rejects empty identity tags", () => {
    const p = problemsOf(() => resolveSettings(source({ ...production, processName: " ", appName: "" })));
    expect(p.join("\n")).toContain(`${PROJECT}:processName must not be empty`);
    expect(p.join("\n")).toContain(`${PROJECT}:appName must not be empty`);
  });
});

describe("resolveSettings: GitHub", () => {
  it("creates no GitHub target without owner and repository", () => {
    expect(resolveSettings(source(production)).github).toBeUndefined();
  });

  it("targets the repository with the REGISTRY_PROCESS_ID secret, token from config or environment", () => {
    const gh = { ...production, githubOwner: "agent-skills", githubRepository: "agent-skills-cli" };
    expect(resolveSettings(source(gh)).github).toEqual({
      owner: "agent-skills",
      repository: "agent-skills-cli",
      secretName: SECRET_NAME,
      tokenSource: "none",
    });
    expect(resolveSettings(source(gh, { env: { GITHUB_TOKEN: "t" } })).github?.tokenSource).toBe("env");
    expect(
      resolveSettings(source({ ...gh, githubToken: "t" }, { secret: ["githubToken"] })).github?.tokenSource,
    ).toBe("config");
    expect(SECRET_NAME).toBe("REGISTRY_PROCESS_ID");
  });

  it("needs both owner and repository", () => {
    expect(problemsOf(() => resolveSettings(source({ ...production, githubOwner: "o" })))[0]).toContain(
      `${PROJECT}:githubRepository is not set`,
    );
    expect(problemsOf(() => resolveSettings(source({ ...production, githubRepository: "r" })))[0]).toContain(
      `${PROJECT}:githubOwner is not set`,
    );
  });

  it("rejects owner/repository in the repository key", () => {
    const p = problemsOf(() =>
      resolveSettings(source({ ...production, githubOwner: "o", githubRepository: "o/r" })),
    );
    expect(p[0]).toContain("must be the repository name only");
  });

  it("refuses a GitHub token stored in plain config, naming the --secret fix", () => {
    const p = problemsOf(() =>
      resolveSettings(
        source({ ...production, githubOwner: "o", githubRepository: "r", githubToken: "ghp_x" }),
      ),
    );
    expect(p).toEqual([expect.stringContaining(`${PROJECT}:githubToken is stored in plain text`)]);
    expect(p[0]).toContain(`pulumi config set --secret ${PROJECT}:githubToken`);
  });

  it("refuses a wallet stored in plain config, naming the --secret fix and without echoing the key", () => {
    const jwk = JSON.stringify({ kty: "RSA", n: "modulus", e: "AQAB", d: "PRIVATE-EXPONENT" });
    const p = problemsOf(() => resolveSettings(source({ ...production, wallet: jwk })));
    expect(p).toEqual([expect.stringContaining(`${PROJECT}:wallet is stored in plain text`)]);
    expect(p[0]).toContain(`pulumi config set --secret ${PROJECT}:wallet`);
    expect(p[0]).not.toContain("PRIVATE-EXPONENT");
  });

  it("accepts a wallet stored as a secret, and the settings never carry it", () => {
    const jwk = JSON.stringify({ kty: "RSA", n: "modulus", e: "AQAB", d: "PRIVATE-EXPONENT" });
    const settings = resolveSettings(source({ ...production, wallet: jwk }, { secret: ["wallet"] }));
    expect(JSON.stringify(settings)).not.toContain("PRIVATE-EXPONENT");
  });
});

describe("resolveSettings: AO mainnet", () => {
  const NODE_ADDRESS = "N".repeat(43);
  const mainnet = {
    network: "mainnet",
    nodeUrl: "https://push.forward.computer",
    module: MODULE,
    scheduler: SCHEDULER,
    authority: NODE_ADDRESS,
  };

  it("resolves the node, the scheduler and the pinned authority", () => {
    const s = resolveSettings(source(mainnet));
    expect(s.endpoints).toEqual({ network: "mainnet", node: "https://push.forward.computer" });
    expect(s.authority).toBe(NODE_ADDRESS);
    expect(s.scheduler).toBe(SCHEDULER);
  });

  it("leaves the authority unpinned when the stack does not pin it: the deploy reads it from the node", () => {
    const s = resolveSettings(source({ ...mainnet, authority: "" }));
    expect(s.authority).toBeUndefined();
    expect(s.endpoints).toEqual({ network: "mainnet", node: "https://push.forward.computer" });
  });

  it("refuses the legacy messenger's authority on mainnet, saying how to unpin or read the node's", () => {
    const [p] = problemsOf(() => resolveSettings(source({ ...mainnet, authority: AUTHORITY })));
    expect(p).toContain("is the legacy network's messenger, not a mainnet node");
    expect(p).toContain(`pulumi config rm ${PROJECT}:authority --stack test`);
    expect(p).toContain("curl https://push.forward.computer/~meta@1.0/info/address");
  });

  it("takes a compute node apart from the push node, and a gateway for the preflight's lookups", () => {
    const s = resolveSettings(
      source({ ...mainnet, computeNodeUrl: "https://compute.example/", gatewayUrl: "https://arweave.net" }),
    );
    expect(s.endpoints).toEqual({
      network: "mainnet",
      node: "https://push.forward.computer",
      computeNode: "https://compute.example",
    });
    expect(s.lookupGateway).toBe("https://arweave.net");
    // By default the push node computes, and nothing is looked up.
    const plain = resolveSettings(source(mainnet));
    expect(plain.endpoints).toEqual({ network: "mainnet", node: "https://push.forward.computer" });
    expect(plain.lookupGateway).toBeUndefined();
    expect(
      problemsOf(() => resolveSettings(source({ ...mainnet, computeNodeUrl: "http://10.0.0.1" })))[0],
    ).toContain(`${PROJECT}:computeNodeUrl "http://10.0.0.1" must use https`);
    expect(
      problemsOf(() =>
        resolveSettings(source({ ...production, computeNodeUrl: "https://compute.example" })),
      )[0],
    ).toContain(`${PROJECT}:computeNodeUrl is for the mainnet node, but ${PROJECT}:network is legacy`);
  });

  it("names keys of the other network, and an unknown network", () => {
    expect(
      problemsOf(() => resolveSettings(source({ ...mainnet, muUrl: "https://mu.ao-testnet.xyz" }))),
    ).toEqual([
      expect.stringContaining(
        `${PROJECT}:muUrl is for the legacy network, but ${PROJECT}:network is mainnet`,
      ),
    ]);
    expect(
      problemsOf(() => resolveSettings(source({ ...production, nodeUrl: "https://n.example" }))),
    ).toEqual([
      expect.stringContaining(`${PROJECT}:nodeUrl is for the mainnet node, but ${PROJECT}:network is legacy`),
    ]);
    expect(problemsOf(() => resolveSettings(source({ ...mainnet, network: "testnet" })))[0]).toContain(
      `${PROJECT}:network "testnet" is not an AO network: use mainnet`,
    );
    expect(problemsOf(() => resolveSettings(source({ ...mainnet, nodeUrl: "" })))[0]).toContain(
      `${PROJECT}:nodeUrl is not set`,
    );
  });
});

describe("endpoint URLs and network.json", () => {
  it("allows plain http on loopback only, and stores URLs without a trailing slash", () => {
    const urls = (cuUrl: string) => () => resolveSettings(source({ ...production, cuUrl }));
    expect(units(urls("http://localhost:4000")()).cu).toBe("http://localhost:4000");
    expect(units(urls("http://127.0.0.1:4000/cu/")()).cu).toBe("http://127.0.0.1:4000/cu");
    expect(problemsOf(urls("http://10.0.0.1"))[0]).toContain('"http://10.0.0.1" must use https');
  });

  it("reads the network.json the local network's writer puts on disk", () => {
    const dir = mkdtempSync(join(tmpdir(), "config-network-"));
    writeNetworkFile(join(dir, "network.json"), network);
    const s = resolveSettings({
      ...source({ networkFile: "network.json", module: MODULE }),
      resolvePath: (p) => join(dir, p),
      readFile: (f) => readFileSync(f, "utf8"),
    });
    expect(s).toMatchObject({
      endpoints: { network: "mainnet", node: LOCAL },
      scheduler: LOCAL_ADDRESS,
      module: MODULE,
    });
    expect(s.authority).toBeUndefined();
  });

  it("has no second name for the scheduler: a file without schedulerId is refused", () => {
    const { schedulerId: _, ...rest } = network;
    expect(() => parseNetworkFile(JSON.stringify({ ...rest, scheduler: LOCAL_ADDRESS }), "n.json")).toThrow(
      /n\.json is not a local network description: schedulerId undefined is not an Arweave ID/,
    );
  });
});

describe("Pulumi.yaml schema", () => {
  type ProjectFile = {
    name: string;
    runtime: { name: string; options?: Record<string, unknown> };
    main: string;
    config: Record<string, { type: string; description?: string; default?: unknown; secret?: boolean }>;
  };
  const project = readYaml<ProjectFile>("Pulumi.yaml");

  it("is the nodejs TypeScript program in infra/, named after the config namespace", () => {
    expect(project.name).toBe(PROJECT);
    expect(project.runtime.name).toBe("nodejs");
    expect(project.runtime.options?.typescript).toBe(true);
    expect(project.main).toBe("infra/");
  });

  it("declares every setting the program reads, typed and described, with the program's defaults", () => {
    const declared = Object.keys(project.config).sort();
    expect(declared).toEqual([...Object.keys(DEFAULTS), ...REQUIRED_KEYS].sort());
    for (const [k, decl] of Object.entries(project.config)) {
      expect(decl.type, k).toBe("string");
      expect(decl.description?.length, `${k} has a description`).toBeGreaterThan(20);
    }
    for (const [k, v] of Object.entries(DEFAULTS)) expect(project.config[k]?.default, k).toBe(v);
    for (const k of REQUIRED_KEYS) expect(project.config[k], k).not.toHaveProperty("default");
  });

  it("marks no key secret: Pulumi rejects a secret with a default, and only module goes without one", () => {
    expect(Object.keys(project.config).filter((k) => project.config[k]?.secret)).toEqual([]);
  });

  it("declares every key the program keeps secret, telling how to store it encrypted", () => {
    const secretKeys = Object.keys(SECRET_KEYS);
    expect(secretKeys.sort()).toEqual(["githubToken", "wallet"]);
    for (const k of secretKeys) expect(project.config[k]?.description, k).toContain("--secret");
  });

  it.each(Object.keys(SECRET_KEYS) as ConfigKey[])(
    "refuses %s in plain text and takes it encrypted, echoing no value",
    (k) => {
      const gh = { githubOwner: "agent-skills", githubRepository: "agent-skills-cli" };
      const config = { ...production, ...gh, [k]: "VALUE-NEVER-ECHOED" };
      const p = problemsOf(() => resolveSettings(source(config)));
      expect(p).toEqual([expect.stringContaining(`${PROJECT}:${k} is stored in plain text`)]);
      expect(p[0]).toContain(`pulumi config set --secret ${PROJECT}:${k}`);
      expect(p[0]).not.toContain("VALUE-NEVER-ECHOED");
      expect(() => resolveSettings(source(config, { secret: [k] }))).not.toThrow();
    },
  );
});

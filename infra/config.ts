/**
 * Stack configuration -> validated settings, as pure functions.
 *
 * Every setting is declared (type, description, default) in `Pulumi.yaml`; this module is the one place
 * that gives those strings meaning. It never reads Pulumi, the environment or the disk itself: the
 * caller (`infra/index.ts`) passes accessors, so the tests run every rule without a stack.
 *
 * All problems are collected and reported together, each naming the key and the command that fixes it.
 * The rule for each kind of value (AO ID, endpoint URL, upgrade strategy) is the one in
 * providers/aoValues.ts, which the resource's `check` and the outputs script use too.
 */
import { type NetworkInfo, parseNetworkFile } from "../devnet/networkFile";
import {
  type AoNetwork,
  aoIdSchema,
  type Endpoints,
  endpointUrlSchema,
  LEGACY_AUTHORITY,
  type LegacyEndpoints,
  normalizeUrl,
  problemOf,
  type UpgradeStrategy,
  upgradeStrategySchema,
} from "../providers/aoValues";

/** The Pulumi project name, hence the config namespace (`aoRegistry:<key>`). */
export const PROJECT = "aoRegistry";

/** The GitHub Actions secret the CLI build reads. */
export const SECRET_NAME = "REGISTRY_PROCESS_ID";

/** Defaults, mirrored in `Pulumi.yaml` (a test keeps the two equal). "" means "not set". */
export const DEFAULTS = {
  network: "mainnet",
  networkFile: "",
  nodeUrl: "",
  muUrl: "",
  cuUrl: "",
  gatewayUrl: "",
  scheduler: "",
  authority: "",
  processName: "Skills Registry Process",
  appName: "Agent-Skills-Registry",
  upgrade: "replace",
  adoptProcessId: "",
  acceptDataLoss: "false",
  movePageBytes: "262144",
  githubOwner: "",
  githubRepository: "",
  githubToken: "",
  wallet: "",
} as const;

/**
 * Keys whose value must be stored encrypted (`pulumi config set --secret`), with an example value and
 * the environment variables that can provide them instead. `Pulumi.yaml` cannot mark them secret: a
 * secret key may have no default there, and a key without a default is one every stack must set.
 */
export const SECRET_KEYS = {
  wallet: { example: '"$(cat wallet.json)"', env: "AO_WALLET_JWK (or ARWEAVE_WALLET_JWK) / AO_WALLET_FILE" },
  githubToken: { example: "<token>", env: "GITHUB_TOKEN" },
} as const;
type SecretKey = keyof typeof SECRET_KEYS;

/** Keys every stack must set (no default in `Pulumi.yaml`). */
export const REQUIRED_KEYS = ["module"] as const;

export type ConfigKey = keyof typeof DEFAULTS | (typeof REQUIRED_KEYS)[number];

export interface GitHubTarget {
  /** User or organization that owns the repository. */
  owner: string;
  /** Repository (name only) whose Actions secret receives the process ID. */
  repository: string;
  secretName: string;
  /** Where the token comes from; its value never enters these settings. */
  tokenSource: "config" | "env" | "none";
}

export interface StackSettings {
  stack: string;
  /** The network and its URLs: AO mainnet's node, or the legacy network's units. */
  endpoints: Endpoints & { network: AoNetwork };
  module: string;
  scheduler: string;
  authority?: string;
  processName: string;
  tags: Record<string, string>;
  upgrade: UpgradeStrategy;
  /** Adopt this existing process instead of spawning one (rollback, or moving a process under management). */
  adoptProcessId?: string;
  /** Name a process that cannot take the state (a rollback to a release without the protocol) anyway. */
  acceptDataLoss: boolean;
  /** Canonical bytes of registry entries per page when the state moves into a replacement. */
  movePageBytes: number;
  github?: GitHubTarget;
  /** Absolute path of the local network's network.json, when the stack deploys to one. */
  networkFile?: string;
}

export class ConfigError extends Error {
  constructor(
    readonly stack: string,
    readonly problems: string[],
  ) {
    super(
      `Stack '${stack}' has ${problems.length === 1 ? "a configuration problem" : `${problems.length} configuration problems`}:\n` +
        problems.map((p) => `  - ${p}`).join("\n"),
    );
    this.name = "ConfigError";
  }
}

export interface ConfigSource {
  stack: string;
  /** Raw value of `aoRegistry:<key>`, or undefined when the stack does not set it. */
  get(key: ConfigKey): string | undefined;
  /** Whether the stack stores `aoRegistry:<key>` encrypted (`pulumi config set --secret`). */
  isSecret(key: ConfigKey): boolean;
  /** Environment at run time (only GITHUB_TOKEN is consulted, for its presence). */
  env: Record<string, string | undefined>;
  /** Resolves a path relative to the project directory. */
  resolvePath(p: string): string;
  /** Contents of a file, or undefined when it does not exist. */
  readFile(absolutePath: string): string | undefined;
}

const GITHUB_OWNER = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;
const GITHUB_REPOSITORY = /^[A-Za-z0-9._-]{1,100}$/;

const key = (k: string) => `${PROJECT}:${k}`;
const fix = (stack: string, k: string, example: string, secret = false) =>
  `pulumi config set ${secret ? "--secret " : ""}${key(k)} ${example} --stack ${stack}`;

/** Turns stack config into settings, or throws one ConfigError listing every problem. */
export function resolveSettings(src: ConfigSource): StackSettings {
  const { stack } = src;
  const problems: string[] = [];
  const raw = (k: ConfigKey): string => {
    const v = src.get(k);
    if (v !== undefined) return v.trim();
    return k in DEFAULTS ? DEFAULTS[k as keyof typeof DEFAULTS] : "";
  };

  // Local network description, when the stack deploys to one.
  let network: NetworkInfo | undefined;
  let networkFile: string | undefined;
  const nf = raw("networkFile");
  if (nf) {
    networkFile = src.resolvePath(nf);
    const text = src.readFile(networkFile);
    if (text === undefined) {
      problems.push(
        `${key("networkFile")}: ${networkFile} does not exist. Start the local AO network first ` +
          "(`npm run deploy:dev` starts it, or `npm run devnet`), or point the key at its network.json: " +
          fix(stack, "networkFile", "<path>/network.json"),
      );
    } else {
      try {
        network = parseNetworkFile(text, networkFile);
      } catch (e) {
        problems.push(
          `${key("networkFile")}: ${(e as Error).message}. Restart the local network to rewrite it.`,
        );
      }
    }
  }

  // The network: AO mainnet (a HyperBEAM node) or the legacy network (MU, CU, gateway).
  const mode = raw("network");
  if (mode !== "mainnet" && mode !== "legacy")
    problems.push(
      `${key("network")} ${JSON.stringify(mode)} is not an AO network: use mainnet (a HyperBEAM node) or legacy (AO's legacy testnet units): ${fix(stack, "network", "mainnet")}`,
    );
  const urlSetting = (
    k: "nodeUrl" | "muUrl" | "cuUrl" | "gatewayUrl",
    fromNetwork: string | undefined,
    example: string,
  ) => {
    const v = raw(k) || fromNetwork || "";
    if (!v) {
      if (!nf || network) {
        problems.push(
          `${key(k)} is not set (and no ${key("networkFile")} provides it): ${fix(stack, k, example)}`,
        );
      }
      return undefined;
    }
    const problem = problemOf(endpointUrlSchema(), v);
    const what = raw(k) ? key(k) : `${k} from ${networkFile}`;
    if (problem) {
      problems.push(`${what} ${problem}: ${fix(stack, k, example)}`);
      return undefined;
    }
    return normalizeUrl(v);
  };
  const otherKeys = (
    mode === "mainnet" ? (["muUrl", "cuUrl", "gatewayUrl"] as const) : (["nodeUrl"] as const)
  ).filter((k) => raw(k));
  if (otherKeys.length && (mode === "mainnet" || mode === "legacy"))
    problems.push(
      `${otherKeys.map(key).join(", ")} ${otherKeys.length === 1 ? "is" : "are"} for the ${mode === "mainnet" ? "legacy network" : "mainnet node"}, but ${key("network")} is ${mode}: ` +
        `remove ${otherKeys.length === 1 ? "it" : "them"} (pulumi config rm ${key(otherKeys[0]!)} --stack ${stack}) or ${fix(stack, "network", mode === "mainnet" ? "legacy" : "mainnet")}`,
    );
  let endpoints: (Endpoints & { network: AoNetwork }) | undefined;
  if (mode === "mainnet") {
    const node = urlSetting("nodeUrl", network?.urls.node, "https://push.forward.computer");
    if (node) endpoints = { network: "mainnet", node };
  } else if (mode === "legacy") {
    const mu = urlSetting("muUrl", network?.urls.mu, "https://mu.ao-testnet.xyz");
    const cu = urlSetting("cuUrl", network?.urls.cu, "https://cu.ao-testnet.xyz");
    const gateway = urlSetting("gatewayUrl", network?.urls.gateway, "https://arweave.net");
    if (mu && cu && gateway) endpoints = { network: "legacy", mu, cu, gateway } satisfies LegacyEndpoints;
  }

  // Module: pinned in every stack, so that dev and production run the same aos binary.
  const moduleId = raw("module");
  if (!moduleId) {
    problems.push(
      `${key("module")} is not set: every stack pins the aos module it runs: ${fix(stack, "module", "<43-character module ID>")}`,
    );
  } else if (problemOf(aoIdSchema(), moduleId)) {
    problems.push(
      `${key("module")} ${problemOf(aoIdSchema(), moduleId)}: ${fix(stack, "module", "<module ID>")}`,
    );
  } else if (network && !network.modules.some((m) => m.id === moduleId)) {
    problems.push(
      `${key("module")} ${moduleId} is not served by the local network in ${networkFile} ` +
        `(it serves ${network.modules.map((m) => m.id).join(", ")}); dev must run the module production runs`,
    );
  }

  const idSetting = (k: "scheduler" | "authority" | "adoptProcessId", fromNetwork?: string) => {
    const v = raw(k) || fromNetwork || "";
    const problem = v ? problemOf(aoIdSchema(), v) : undefined;
    if (problem) {
      problems.push(`${key(k)} ${problem}: ${fix(stack, k, "<43-character ID>")}`);
      return undefined;
    }
    return v || undefined;
  };
  const scheduler = idSetting("scheduler", network?.schedulerId);
  if (!scheduler && !(nf && !network) && !problems.some((p) => p.startsWith(key("scheduler")))) {
    problems.push(
      `${key("scheduler")} is not set (and no ${key("networkFile")} provides it): ${fix(stack, "scheduler", "<scheduler address>")}`,
    );
  }
  const authority = idSetting("authority", network?.authority);
  // Mainnet: the authority is the node's own address, pinned here (never read at deploy time into an
  // input: a rotated node key would then replace the process). The deploy checks it against the node.
  if (mode === "mainnet" && !(nf && !network) && !problems.some((p) => p.startsWith(key("authority")))) {
    const node = endpoints?.network === "mainnet" ? endpoints.node : "<node>";
    if (!authority)
      problems.push(
        `${key("authority")} is not set: on AO mainnet it is the node's address, pinned in the stack. Read it ` +
          `(curl ${node}/~meta@1.0/info/address) and ${fix(stack, "authority", "<that address>")}`,
      );
    else if (authority === LEGACY_AUTHORITY)
      problems.push(
        `${key("authority")} ${authority} is the legacy network's messenger, not a mainnet node: read the node's ` +
          `address (curl ${node}/~meta@1.0/info/address) and ${fix(stack, "authority", "<that address>")}`,
      );
  }
  const adoptProcessId = idSetting("adoptProcessId");

  const processName = raw("processName");
  if (!processName)
    problems.push(
      `${key("processName")} must not be empty: ${fix(stack, "processName", '"Skills Registry Process"')}`,
    );
  const appName = raw("appName");
  if (!appName)
    problems.push(`${key("appName")} must not be empty: ${fix(stack, "appName", "Agent-Skills-Registry")}`);

  const acceptDataLoss = raw("acceptDataLoss");
  if (acceptDataLoss !== "true" && acceptDataLoss !== "false")
    problems.push(
      `${key("acceptDataLoss")} ${JSON.stringify(acceptDataLoss)} must be true or false: ${fix(stack, "acceptDataLoss", "false")}`,
    );

  const movePageBytes = Number(raw("movePageBytes"));
  if (!Number.isInteger(movePageBytes) || movePageBytes < 1024 || movePageBytes > 524288)
    problems.push(
      `${key("movePageBytes")} ${JSON.stringify(raw("movePageBytes"))} must be a whole number of bytes from 1024 to 524288: ${fix(stack, "movePageBytes", "262144")}`,
    );

  const upgrade = raw("upgrade");
  const upgradeProblem = problemOf(upgradeStrategySchema(), upgrade);
  if (upgradeProblem)
    problems.push(`${key("upgrade")} ${upgradeProblem}: ${fix(stack, "upgrade", "replace")}`);

  // Secrets: only their storage is checked here. The wallet is read by the provider (never by this
  // program, never a resource input); the token by index.ts.
  for (const [k, { example, env }] of Object.entries(SECRET_KEYS)) {
    if (raw(k as SecretKey) && !src.isSecret(k as SecretKey)) {
      problems.push(
        `${key(k)} is stored in plain text; remove it (pulumi config rm ${key(k)} --stack ${stack}) and store it encrypted: ${fix(stack, k, example, true)}, or provide ${env} in the environment`,
      );
    }
  }

  // GitHub: all or nothing.
  let github: GitHubTarget | undefined;
  const owner = raw("githubOwner");
  const repository = raw("githubRepository");
  const tokenInConfig = raw("githubToken");
  if (owner || repository) {
    if (!owner)
      problems.push(
        `${key("githubOwner")} is not set but ${key("githubRepository")} is: ${fix(stack, "githubOwner", "<owner>")}`,
      );
    else if (!GITHUB_OWNER.test(owner))
      problems.push(
        `${key("githubOwner")} ${JSON.stringify(owner)} is not a GitHub user or organization name`,
      );
    if (!repository)
      problems.push(
        `${key("githubRepository")} is not set but ${key("githubOwner")} is: ${fix(stack, "githubRepository", "<repository>")}`,
      );
    else if (repository.includes("/"))
      problems.push(
        `${key("githubRepository")} ${JSON.stringify(repository)} must be the repository name only; the owner goes in ${key("githubOwner")}`,
      );
    else if (!GITHUB_REPOSITORY.test(repository))
      problems.push(
        `${key("githubRepository")} ${JSON.stringify(repository)} is not a GitHub repository name`,
      );
    const tokenSource = tokenInConfig ? "config" : src.env.GITHUB_TOKEN ? "env" : "none";
    github = { owner, repository, secretName: SECRET_NAME, tokenSource };
  } else if (tokenInConfig) {
    problems.push(
      `${key("githubToken")} is set but ${key("githubOwner")} and ${key("githubRepository")} are not; set them or remove the token`,
    );
  }

  if (problems.length) throw new ConfigError(stack, problems);

  return {
    stack,
    endpoints: endpoints!,
    module: moduleId,
    scheduler: scheduler!,
    ...(authority ? { authority } : {}),
    processName,
    tags: { "App-Name": appName },
    upgrade: upgrade as UpgradeStrategy,
    ...(adoptProcessId ? { adoptProcessId } : {}),
    acceptDataLoss: acceptDataLoss === "true",
    movePageBytes,
    ...(github ? { github } : {}),
    ...(networkFile ? { networkFile } : {}),
  };
}

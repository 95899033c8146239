/**
 * Stack configuration -> validated settings, as pure functions.
 *
 * Every setting is declared (type, description, default) in `Pulumi.yaml`; this module is the one place
 * that gives those strings meaning. It never reads Pulumi, the environment or the disk itself: the
 * caller (`infra/index.ts`) passes accessors, so the tests run every rule without a stack.
 *
 * All problems are collected and reported together, each naming the key and the command that fixes it.
 */

/** The Pulumi project name, hence the config namespace (`aoRegistry:<key>`). */
export const PROJECT = "aoRegistry";

/** The GitHub Actions secret the CLI build reads. */
export const SECRET_NAME = "REGISTRY_PROCESS_ID";

/** Defaults, mirrored in `Pulumi.yaml` (a test keeps the two equal). "" means "not set". */
export const DEFAULTS = {
  networkFile: "",
  muUrl: "",
  cuUrl: "",
  gatewayUrl: "",
  scheduler: "",
  authority: "",
  processName: "Skills Registry Process",
  appName: "Agent-Skills-Registry",
  upgrade: "replace",
  adoptProcessId: "",
  githubOwner: "",
  githubRepository: "",
  githubToken: "",
  wallet: "",
} as const;

/** Keys every stack must set (no default in `Pulumi.yaml`). */
export const REQUIRED_KEYS = ["module"] as const;

export type ConfigKey = keyof typeof DEFAULTS | (typeof REQUIRED_KEYS)[number];

export interface Endpoints {
  /** Messenger unit: where signed spawns and messages are posted. */
  mu: string;
  /** Compute unit: results and dry-runs (the CLI's reads). */
  cu: string;
  /** Arweave gateway: GraphQL lookups and data. */
  gateway: string;
}

export type UpgradeStrategy = "replace" | "eval";

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
  endpoints: Endpoints;
  module: string;
  scheduler: string;
  authority?: string;
  processName: string;
  tags: Record<string, string>;
  upgrade: UpgradeStrategy;
  /** Adopt this existing process instead of spawning one (rollback, or moving a process under management). */
  adoptProcessId?: string;
  github?: GitHubTarget;
  /** Absolute path of the local network's network.json, when the stack deploys to one. */
  networkFile?: string;
}

/** What a local AO network (`devnet/`) writes to `<data>/network.json`. */
export interface NetworkInfo {
  urls: { mu: string; cu: string; su?: string; gateway: string };
  modules: { id: string; aosVersion?: string; default?: boolean }[];
  scheduler: string;
  authority?: string;
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

/** Arweave/AO IDs (transactions, wallet addresses): 43 base64url characters. */
export const AO_ID = /^[A-Za-z0-9_-]{43}$/;
const GITHUB_OWNER = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;
const GITHUB_REPOSITORY = /^[A-Za-z0-9._-]{1,100}$/;

const key = (k: string) => `${PROJECT}:${k}`;
const fix = (stack: string, k: string, example: string, secret = false) =>
  `pulumi config set ${secret ? "--secret " : ""}${key(k)} ${example} --stack ${stack}`;

function isLoopback(host: string): boolean {
  return host === "localhost" || host === "127.0.0.1" || host === "[::1]" || host.endsWith(".localhost");
}

/** Checks an endpoint URL; returns it without a trailing slash, or a problem. */
export function checkUrl(value: string, what: string): { url?: string; problem?: string } {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return { problem: `${what} ${JSON.stringify(value)} is not a URL` };
  }
  if (u.protocol !== "https:" && u.protocol !== "http:") {
    return { problem: `${what} ${JSON.stringify(value)} must be an http(s) URL` };
  }
  if (u.protocol === "http:" && !isLoopback(u.hostname)) {
    return {
      problem: `${what} ${JSON.stringify(value)} must use https (plain http is for a local network only)`,
    };
  }
  if (u.search || u.hash || u.username || u.password) {
    return { problem: `${what} ${JSON.stringify(value)} must not carry a query, fragment or credentials` };
  }
  return { url: u.toString().replace(/\/+$/, "") };
}

/** Parses and checks a local network's network.json. Throws a plain Error naming the file. */
export function parseNetworkFile(text: string, file: string): NetworkInfo {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file} is not valid JSON (${(e as Error).message})`);
  }
  const problems: string[] = [];
  const obj = (data ?? {}) as Record<string, unknown>;
  const urls = (obj.urls ?? {}) as Record<string, unknown>;
  for (const u of ["mu", "cu", "gateway"] as const) {
    if (typeof urls[u] !== "string") problems.push(`urls.${u} is missing`);
  }
  const modules = Array.isArray(obj.modules) ? obj.modules : undefined;
  if (!modules || modules.length === 0) problems.push("modules is missing or empty");
  else if (modules.some((m) => typeof m?.id !== "string")) problems.push("every module needs an id");
  // `scheduler` as documented; `schedulerId` as early versions of devnet/ wrote it.
  if (typeof obj.scheduler !== "string" && typeof obj.schedulerId === "string")
    obj.scheduler = obj.schedulerId;
  if (typeof obj.scheduler !== "string") problems.push("scheduler is missing");
  if (obj.authority !== undefined && typeof obj.authority !== "string")
    problems.push("authority must be a string");
  if (problems.length) throw new Error(`${file} is not a local network description: ${problems.join("; ")}`);
  return data as NetworkInfo;
}

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

  // Endpoints: explicit config wins over the network file.
  const endpoints: Partial<Endpoints> = {};
  const urlKeys = { mu: "muUrl", cu: "cuUrl", gateway: "gatewayUrl" } as const;
  const urlExamples = {
    mu: "https://mu.ao-testnet.xyz",
    cu: "https://cu.ao-testnet.xyz",
    gateway: "https://arweave.net",
  } as const;
  for (const unit of ["mu", "cu", "gateway"] as const) {
    const k = urlKeys[unit];
    const v = raw(k) || network?.urls[unit] || "";
    if (!v) {
      if (!nf || network) {
        problems.push(
          `${key(k)} is not set (and no ${key("networkFile")} provides it): ${fix(stack, k, urlExamples[unit])}`,
        );
      }
      continue;
    }
    const checked = checkUrl(v, raw(k) ? key(k) : `${unit} URL from ${networkFile}`);
    if (checked.problem) problems.push(`${checked.problem}: ${fix(stack, k, urlExamples[unit])}`);
    else endpoints[unit] = checked.url;
  }

  // Module: pinned in every stack, so that dev and production run the same aos binary.
  const moduleId = raw("module");
  if (!moduleId) {
    problems.push(
      `${key("module")} is not set: every stack pins the aos module it runs: ${fix(stack, "module", "<43-character module ID>")}`,
    );
  } else if (!AO_ID.test(moduleId)) {
    problems.push(
      `${key("module")} ${JSON.stringify(moduleId)} is not an Arweave ID (43 base64url characters): ${fix(stack, "module", "<module ID>")}`,
    );
  } else if (network && !network.modules.some((m) => m.id === moduleId)) {
    problems.push(
      `${key("module")} ${moduleId} is not served by the local network in ${networkFile} ` +
        `(it serves ${network.modules.map((m) => m.id).join(", ")}); dev must run the module production runs`,
    );
  }

  const idSetting = (k: "scheduler" | "authority" | "adoptProcessId", fromNetwork?: string) => {
    const v = raw(k) || fromNetwork || "";
    if (v && !AO_ID.test(v)) {
      problems.push(
        `${key(k)} ${JSON.stringify(v)} is not an Arweave address (43 base64url characters): ${fix(stack, k, "<43-character ID>")}`,
      );
      return undefined;
    }
    return v || undefined;
  };
  const scheduler = idSetting("scheduler", network?.scheduler);
  if (!scheduler && !(nf && !network) && !problems.some((p) => p.startsWith(key("scheduler")))) {
    problems.push(
      `${key("scheduler")} is not set (and no ${key("networkFile")} provides it): ${fix(stack, "scheduler", "<scheduler address>")}`,
    );
  }
  const authority = idSetting("authority", network?.authority);
  const adoptProcessId = idSetting("adoptProcessId");

  const processName = raw("processName");
  if (!processName)
    problems.push(
      `${key("processName")} must not be empty: ${fix(stack, "processName", '"Skills Registry Process"')}`,
    );
  const appName = raw("appName");
  if (!appName)
    problems.push(`${key("appName")} must not be empty: ${fix(stack, "appName", "Agent-Skills-Registry")}`);

  const upgrade = raw("upgrade");
  if (upgrade !== "replace" && upgrade !== "eval") {
    problems.push(
      `${key("upgrade")} ${JSON.stringify(upgrade)} must be "replace" (a new process per code change) or "eval" (load the code into the same process): ${fix(stack, "upgrade", "replace")}`,
    );
  }

  // The wallet is read by the provider (never by this program, never a resource input); here only
  // its storage is checked.
  if (raw("wallet") && !src.isSecret("wallet")) {
    problems.push(
      `${key("wallet")} is stored in plain text; remove it (pulumi config rm ${key("wallet")} --stack ${stack}) and store it encrypted: ${fix(stack, "wallet", '"$(cat wallet.json)"', true)}, or provide AO_WALLET_JWK / AO_WALLET_FILE in the environment`,
    );
  }

  // GitHub: all or nothing.
  let github: GitHubTarget | undefined;
  const owner = raw("githubOwner");
  const repository = raw("githubRepository");
  const tokenInConfig = raw("githubToken");
  if (tokenInConfig && !src.isSecret("githubToken")) {
    problems.push(
      `${key("githubToken")} is stored in plain text; remove it (pulumi config rm ${key("githubToken")} --stack ${stack}) and store it encrypted: ${fix(stack, "githubToken", "<token>", true)}, or provide GITHUB_TOKEN in the environment`,
    );
  }
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
    endpoints: endpoints as Endpoints,
    module: moduleId,
    scheduler: scheduler!,
    ...(authority ? { authority } : {}),
    processName,
    tags: { "App-Name": appName },
    upgrade: upgrade as UpgradeStrategy,
    ...(adoptProcessId ? { adoptProcessId } : {}),
    ...(github ? { github } : {}),
    ...(networkFile ? { networkFile } : {}),
  };
}

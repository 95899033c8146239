/**
 * `npm run deploy:local`: an end-to-end deploy without the Pulumi CLI. The real program (infra/) runs
 * under `pulumi.runtime.setMocks`, and every dynamic resource is handed to @pulumi/pulumi's real
 * dynamic-provider host (Configure, Check, Create over gRPC, as the engine would) against a running
 * local AO network, so the process it spawns is real and its outputs are the provider's. Other
 * resources (the GitHub provider and secret) are recorded, not sent anywhere.
 *
 *   npm run deploy:local [-- --network-file .devnet-data/network.json] [--wallet <jwk file>]
 *                           [--github <owner>/<repository>] [--adopt=<process ID>]
 *
 * Prints `{ "outputs": {...}, "github": {...} }` on stdout; `outputs` has the shape of
 * `pulumi stack output --json`, so `... | jq .outputs | npm run outputs -- --stack dev --stdin` works.
 * There is no state: every run deploys a new process.
 */
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import type * as pulumiType from "@pulumi/pulumi";
import { PROJECT } from "../infra/config";
import { ensureDevWallet, ensureNetwork } from "./deploy-dev";
import { DEV_STACK, devPaths } from "./lib/devStack";
import { type DynamicHost, startDynamicHost } from "./lib/dynamicHost";

export interface LocalDeployOptions {
  repoRoot: string;
  networkFile: string;
  walletFile: string;
  github?: { owner: string; repository: string };
  /** Adopt this existing process instead of spawning (what the rollback workflow does). */
  adoptProcessId?: string;
  log?: (line: string) => void;
}

export interface RecordedResource {
  type: string;
  name: string;
  provider?: string;
  inputs: Record<string, unknown>;
  id: string;
  state: Record<string, unknown>;
}

export interface LocalDeployResult {
  outputs: Record<string, unknown>;
  resources: RecordedResource[];
}

const DYNAMIC = "pulumi-nodejs:dynamic";

/** The dev stack's configuration (Pulumi.dev.yaml), with the given network file and GitHub target. */
export function localConfig(
  repoRoot: string,
  opts: Pick<LocalDeployOptions, "networkFile" | "github" | "adoptProcessId">,
): Record<string, string> {
  const yaml = require("js-yaml") as { load(text: string): unknown };
  const fs = require("node:fs") as typeof import("node:fs");
  const file = yaml.load(fs.readFileSync(join(repoRoot, "Pulumi.dev.yaml"), "utf8")) as {
    config: Record<string, unknown>;
  };
  const config: Record<string, string> = {};
  for (const [k, v] of Object.entries(file.config)) if (typeof v === "string") config[k] = v;
  config[`${PROJECT}:networkFile`] = opts.networkFile;
  if (opts.github) {
    config[`${PROJECT}:githubOwner`] = opts.github.owner;
    config[`${PROJECT}:githubRepository`] = opts.github.repository;
  }
  if (opts.adoptProcessId) config[`${PROJECT}:adoptProcessId`] = opts.adoptProcessId;
  return config;
}

async function settle(o: unknown): Promise<unknown> {
  const pulumi = require("@pulumi/pulumi") as typeof pulumiType;
  if (!pulumi.Output.isInstance(o)) return o;
  const out = o as pulumiType.Output<unknown> & { isKnown: Promise<boolean> };
  if (!(await out.isKnown)) return undefined;
  return new Promise((r) => out.apply((v) => r(v)));
}

/** Runs the program once under mocks, dynamic resources through the real provider host. */
export async function deployLocal(opts: LocalDeployOptions): Promise<LocalDeployResult> {
  const log = opts.log ?? ((l) => console.error(l));
  const config = localConfig(opts.repoRoot, opts);
  const env: Record<string, string | undefined> = { ...process.env, AO_WALLET_FILE: opts.walletFile };
  delete env.AO_WALLET_JWK;
  if (opts.github && !env.GITHUB_TOKEN) env.GITHUB_TOKEN = "local-deploy-no-github-call";

  const host: DynamicHost = await startDynamicHost({
    cwd: opts.repoRoot,
    baseEnv: env,
    onLog: (l) => log(`[provider] ${l}`),
  });
  const saved = { ...process.env };
  Object.assign(process.env, { GITHUB_TOKEN: env.GITHUB_TOKEN, AO_WALLET_FILE: opts.walletFile });
  delete process.env.AO_WALLET_JWK;
  let configured: Promise<unknown> | undefined;
  const resources: RecordedResource[] = [];
  const failures: unknown[] = [];
  try {
    const pulumi = require("@pulumi/pulumi") as typeof pulumiType;
    pulumi.runtime.setAllConfig(config, []);
    await pulumi.runtime.setMocks(
      {
        async newResource(args) {
          try {
            if (!args.type.startsWith(DYNAMIC)) {
              const id = `${args.name}-local`;
              resources.push({ ...args, id, state: args.inputs });
              return { id, state: args.inputs };
            }
            const urn = `urn:pulumi:${DEV_STACK}::${PROJECT}::${args.type}::${args.name}`;
            configured ??= host.configure({});
            await configured;
            log(`check ${args.name}`);
            const checked = await host.check(urn, {}, args.inputs);
            if (checked.failures.length > 0) {
              throw new Error(
                `check failed for ${urn}:\n  ${checked.failures.map((f) => `${f.property}: ${f.reason}`).join("\n  ")}`,
              );
            }
            log(
              `create ${args.name} (spawn, Eval, verify) on ${(checked.inputs.endpoints as { mu: string }).mu}`,
            );
            const created = await host.create(urn, checked.inputs);
            log(`created ${args.name}: ${created.id}`);
            resources.push({ ...args, id: created.id, state: created.properties });
            return { id: created.id, state: created.properties };
          } catch (e) {
            failures.push(e);
            throw e;
          }
        },
        call: (args) => args.inputs,
      },
      PROJECT,
      DEV_STACK,
      false,
    );
    const program = require(join(opts.repoRoot, "infra", "index")) as Record<string, unknown>;
    const outputs: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(program)) {
      try {
        const value = await settle(v);
        if (value !== undefined) outputs[k] = value;
      } catch (e) {
        failures.push(e);
      }
    }
    const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };
    await settings.waitForRPCs().catch((e: unknown) => failures.push(e));
    if (failures.length) throw failures[0];
    return { outputs, resources };
  } finally {
    for (const k of ["GITHUB_TOKEN", "AO_WALLET_FILE", "AO_WALLET_JWK"]) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    await host.stop();
  }
}

/** What the stack wrote into GitHub, for the report. */
export function githubSummary(resources: RecordedResource[]) {
  const secret = resources.find((r) => r.type === "github:index/actionsSecret:ActionsSecret");
  const provider = resources.find((r) => r.type === "pulumi:providers:github");
  if (!secret) return undefined;
  const unwrap = (v: unknown) =>
    v && typeof v === "object" && "value" in (v as object) ? (v as { value: unknown }).value : v;
  return {
    owner: provider?.inputs.owner,
    repository: secret.inputs.repository,
    secretName: secret.inputs.secretName,
    value: unwrap(secret.inputs.value),
  };
}

async function main(argv: string[]): Promise<number> {
  const repoRoot = join(__dirname, "..");
  const paths = devPaths(repoRoot);
  const { values } = parseArgs({
    args: argv,
    options: {
      "network-file": { type: "string" },
      wallet: { type: "string" },
      github: { type: "string" },
      adopt: { type: "string" },
    },
  });
  let networkFile = values["network-file"] ? resolve(values["network-file"]) : paths.networkFile;
  if (!values["network-file"]) {
    await ensureNetwork({ repoRoot, dataDir: paths.dataDir });
    networkFile = paths.networkFile;
  }
  const walletFile = values.wallet ? resolve(values.wallet) : paths.wallet;
  if (!values.wallet) ensureDevWallet(walletFile);
  let github: LocalDeployOptions["github"];
  if (values.github) {
    const [owner, repository, ...rest] = values.github.split("/");
    if (!owner || !repository || rest.length)
      throw new Error(`--github ${values.github}: use <owner>/<repository>`);
    github = { owner, repository };
  }
  const result = await deployLocal({
    repoRoot,
    networkFile,
    walletFile,
    github,
    adoptProcessId: values.adopt,
  });
  process.stdout.write(
    `${JSON.stringify({ outputs: result.outputs, github: githubSummary(result.resources) }, null, 2)}\n`,
  );
  return 0;
}

if (require.main === module) {
  // Exit through process.exit so that the provider host is ended with this command.
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => process.exit(130));
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}

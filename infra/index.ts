/**
 * The Pulumi program (`main: infra/`): reads the stack's configuration, declares the registry and
 * exports what a CLI build needs. The rules live in config.ts (pure) and program.ts (resources).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { staleBuild, staleBuildMessage } from "../scripts/provider-build.cjs";
import { type ConfigKey, PROJECT, resolveSettings } from "./config";
import { declareRegistry } from "./program";

// Pulumi's provider host runs providers/dist: never deploy with a build older than the sources.
const stale = staleBuild();
if (stale) throw new Error(staleBuildMessage(stale));

const projectDir = path.join(__dirname, "..");
const config = new pulumi.Config(PROJECT);
const secretKeys: string[] = (() => {
  try {
    return JSON.parse(process.env.PULUMI_CONFIG_SECRET_KEYS ?? "[]");
  } catch {
    return [];
  }
})();

const settings = resolveSettings({
  stack: pulumi.getStack(),
  get: (k: ConfigKey) => config.get(k),
  isSecret: (k: ConfigKey) => secretKeys.includes(`${PROJECT}:${k}`),
  env: process.env,
  resolvePath: (p) => path.resolve(projectDir, p),
  readFile: (f) => (fs.existsSync(f) ? fs.readFileSync(f, "utf8") : undefined),
});

let githubToken: pulumi.Input<string> | undefined;
if (settings.github) {
  if (settings.github.tokenSource === "config") githubToken = config.requireSecret("githubToken");
  else if (settings.github.tokenSource === "env")
    githubToken = pulumi.secret(process.env.GITHUB_TOKEN as string);
  else if (!pulumi.runtime.isDryRun()) {
    throw new Error(
      `Stack '${settings.stack}' publishes the process ID to ${settings.github.owner}/${settings.github.repository} ` +
        `but has no GitHub token: export GITHUB_TOKEN, or pulumi config set --secret ${PROJECT}:githubToken <token> --stack ${settings.stack}`,
    );
  } else {
    // Pulumi's log calls report a failed delivery on stderr themselves and never reject.
    void pulumi.log.warn(
      "No GitHub token (GITHUB_TOKEN or githubToken): the preview reads nothing from GitHub.",
    );
  }
}

const registry = declareRegistry(settings, { githubToken });

// The stack outputs (infra/stackOutputs.ts lists them; a test keeps these exports equal to that list).
// `module` is CommonJS's own variable, hence its alias.
export const {
  processId,
  codeSha256,
  owner,
  scheduler,
  authority,
  network,
  endpoints,
  deploymentId,
  deployedAt,
  githubSecret,
} = registry.outputs;
const moduleId = registry.outputs.module;

export { moduleId as module };

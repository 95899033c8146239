/**
 * Finds a Pulumi CLI that runs: one on PATH, the official installer's ~/.pulumi/bin, or the official
 * `pulumi` npm package's launcher (node_modules/.bin/pulumi, which downloads the CLI on first use).
 * Each candidate must answer `pulumi version`; where none does, callers print missingPulumiMessage:
 * why each place failed (not there, no internet for the launcher's download...) and what runs instead.
 * Nothing here ever stands in for the CLI.
 */
import { spawnSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join, resolve } from "node:path";

export interface PulumiCli {
  command: string;
  version: string;
  source: "PATH" | "~/.pulumi/bin" | "npm launcher";
}

export const INSTALL_URL = "https://www.pulumi.com/docs/install/";

/** What runs instead when there is no CLI, unless the caller says otherwise. */
export const WITHOUT_THE_CLI =
  "`npm run deploy:local` deploys the same program to the local network without it, through Pulumi's own dynamic-provider host";

/**
 * "The Pulumi CLI is missing", why (each place looked and what went wrong there), what runs instead, and
 * how to install it. `tried` comes from findPulumiCli.
 */
export function missingPulumiMessage(tried: string[], instead: string = WITHOUT_THE_CLI): string {
  return [
    `The Pulumi CLI is missing: ${tried.join("; ")}.`,
    `Instead: ${instead}.`,
    `To use the CLI, install it (${INSTALL_URL}), e.g. \`curl -fsSL https://get.pulumi.com | sh\` then a new shell, ` +
      "or run `npx pulumi version` once with internet access (this project's npm launcher downloads it).",
  ].join("\n");
}

/** How one candidate answered `pulumi version`: the parts of spawnSync's result that explain a failure. */
export interface VersionAttempt {
  status: number | null;
  stdout?: string;
  stderr?: string;
  error?: NodeJS.ErrnoException;
}

const OFFLINE = /fetch failed|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|getaddrinfo/i;

/** Why a candidate that exists is not a CLI that runs, in a few words. Pure. */
export function whyNotRunning(
  candidate: { command: string; source: PulumiCli["source"] },
  r: VersionAttempt,
  timeoutMs: number,
): string {
  const name = `${candidate.command}${candidate.source === "npm launcher" ? " (the official npm launcher)" : ""}`;
  if (r.error?.code === "ETIMEDOUT")
    return `${name} did not answer \`pulumi version\` within ${timeoutMs / 1000} s`;
  if (r.error) return `${name} could not be started (${r.error.code ?? r.error.message})`;
  const lines = (r.stderr ?? "")
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  const last = lines.at(-1)?.replace(/^pulumi:\s*/, "") ?? "";
  // The npm launcher downloads the CLI from get.pulumi.com on first use ("Downloading pulumi vX...").
  const download = lines.map((l) => /^Downloading pulumi v(\S+?)\.*$/.exec(l)).find(Boolean);
  if (download) {
    const offline = OFFLINE.test(last) ? ": no internet access?" : "";
    return `${name} could not download the CLI v${download[1]} from get.pulumi.com (${last}${offline})`;
  }
  if (r.status === 0)
    return `${name} answered \`pulumi version\` with ${JSON.stringify((r.stdout ?? "").trim())}`;
  return `${name} failed \`pulumi version\` (exit ${r.status}${last ? `: ${last}` : ""})`;
}

/** The places looked at where no candidate was found, in words. Pure. */
export function absentPlaces(found: { source: PulumiCli["source"] }[]): string[] {
  const has = (s: PulumiCli["source"]) => found.some((c) => c.source === s);
  return [
    has("PATH") ? "" : "no `pulumi` on PATH",
    has("~/.pulumi/bin") ? "" : "none in ~/.pulumi/bin",
    has("npm launcher") ? "" : "no npm launcher in node_modules/.bin (run `npm ci`)",
  ].filter(Boolean);
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Candidate binaries, in order of preference. Pure apart from checking that files are executable. */
export function pulumiCandidates(
  env: Record<string, string | undefined>,
  repoRoot: string,
  executable: (file: string) => boolean = isExecutable,
): { command: string; source: PulumiCli["source"] }[] {
  const out: { command: string; source: PulumiCli["source"] }[] = [];
  const exe = process.platform === "win32" ? ["pulumi.exe", "pulumi.cmd"] : ["pulumi"];
  const launcher = join(
    repoRoot,
    "node_modules",
    ".bin",
    process.platform === "win32" ? "pulumi.cmd" : "pulumi",
  );
  const launcherDir = join(repoRoot, "node_modules", ".bin");
  for (const dir of (env.PATH ?? "").split(delimiter).filter(Boolean)) {
    // npm scripts put node_modules/.bin on PATH: that is the npm launcher, listed (and tried) as such, last.
    if (resolve(dir) === launcherDir) continue;
    for (const name of exe) {
      const file = join(dir, name);
      if (executable(file)) out.push({ command: file, source: "PATH" });
    }
  }
  if (env.HOME) {
    const file = join(env.HOME, ".pulumi", "bin", exe[0]!);
    if (executable(file)) out.push({ command: file, source: "~/.pulumi/bin" });
  }
  if (executable(launcher)) out.push({ command: launcher, source: "npm launcher" });
  return out;
}

const VERSION_TIMEOUT_MS = 180_000;

/** The first candidate that answers `pulumi version`, or why none does (each place, in words). */
export function findPulumiCli(
  env: Record<string, string | undefined>,
  repoRoot: string,
): { cli: PulumiCli } | { tried: string[] } {
  const candidates = pulumiCandidates(env, repoRoot).filter(
    (c, i, all) => all.findIndex((o) => o.command === c.command) === i,
  );
  const tried = absentPlaces(candidates);
  for (const c of candidates) {
    // The npm launcher may download the CLI on first use: give it time.
    const r = spawnSync(c.command, ["version"], {
      env: env as NodeJS.ProcessEnv,
      encoding: "utf8",
      timeout: VERSION_TIMEOUT_MS,
    });
    const version = (r.stdout ?? "").trim();
    if (r.status === 0 && /^v?\d+\.\d+\.\d+/.test(version)) return { cli: { ...c, version } };
    tried.push(whyNotRunning(c, r, VERSION_TIMEOUT_MS));
  }
  return { tried };
}

/**
 * Finds a Pulumi CLI that runs: one on PATH, the official installer's ~/.pulumi/bin, or the official
 * `pulumi` npm package's launcher (node_modules/.bin/pulumi, which downloads the CLI on first use).
 * Each candidate must answer `pulumi version`; where none does, callers print MISSING_PULUMI and exit
 * non-zero. Nothing here ever stands in for the CLI.
 */
import { spawnSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

export interface PulumiCli {
  command: string;
  version: string;
  source: "PATH" | "~/.pulumi/bin" | "npm launcher";
}

export const INSTALL_URL = "https://www.pulumi.com/docs/install/";

export function missingPulumiMessage(tried: string[]): string {
  return [
    "The Pulumi CLI is missing: no `pulumi` that runs was found.",
    tried.length ? `Tried: ${tried.join(", ")}.` : "",
    `Install it (${INSTALL_URL}), for example:`,
    "  curl -fsSL https://get.pulumi.com | sh        # then open a new shell",
    "  brew install pulumi/tap/pulumi                 # macOS",
    "or add the official npm launcher to this project: npm install --save-dev pulumi",
  ]
    .filter(Boolean)
    .join("\n");
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
  for (const dir of (env.PATH ?? "").split(delimiter).filter(Boolean)) {
    for (const name of exe) {
      const file = join(dir, name);
      if (executable(file)) out.push({ command: file, source: "PATH" });
    }
  }
  if (env.HOME) {
    const file = join(env.HOME, ".pulumi", "bin", exe[0]!);
    if (executable(file)) out.push({ command: file, source: "~/.pulumi/bin" });
  }
  const launcher = join(
    repoRoot,
    "node_modules",
    ".bin",
    process.platform === "win32" ? "pulumi.cmd" : "pulumi",
  );
  if (executable(launcher)) out.push({ command: launcher, source: "npm launcher" });
  return out;
}

/** The first candidate that answers `pulumi version`, or the list of what was tried. */
export function findPulumiCli(
  env: Record<string, string | undefined>,
  repoRoot: string,
): { cli: PulumiCli } | { tried: string[] } {
  const tried: string[] = [];
  const seen = new Set<string>();
  for (const c of pulumiCandidates(env, repoRoot)) {
    if (seen.has(c.command)) continue;
    seen.add(c.command);
    // The npm launcher may download the CLI on first use: give it time.
    const r = spawnSync(c.command, ["version"], {
      env: env as NodeJS.ProcessEnv,
      encoding: "utf8",
      timeout: 180_000,
    });
    const version = (r.stdout ?? "").trim();
    if (r.status === 0 && /^v?\d+\.\d+\.\d+/.test(version)) return { cli: { ...c, version } };
    tried.push(
      `${c.command} (${r.error ? r.error.message : `exit ${r.status}: ${(r.stderr ?? "").trim().split("\n")[0]}`})`,
    );
  }
  if (tried.length === 0) tried.push("`pulumi` on PATH", "~/.pulumi/bin/pulumi", "node_modules/.bin/pulumi");
  return { tried };
}

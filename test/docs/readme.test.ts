/**
 * The README's command and flag tables against the scripts' own option lists: a flag added to a
 * script and not documented, or documented and gone, fails here.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DEVNET_OPTIONS } from "../../devnet/cliOptions";
import { DEPLOY_OPTIONS } from "../../scripts/lib/deployArgs";
import { OUTPUTS_OPTIONS } from "../../scripts/outputs";
import { REGISTRY_OPTIONS } from "../../scripts/registry";

const REPO = join(__dirname, "..", "..");
const readme = readFileSync(join(REPO, "README.md"), "utf8");
const scripts = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")).scripts as Record<
  string,
  string
>;

/** The first cells of the table that follows the line starting with `intro`. */
function firstCells(intro: string): string[] {
  const lines = readme.split("\n");
  const at = lines.findIndex((l) => l.startsWith(intro));
  expect(at, `README has a line starting with ${intro}`).toBeGreaterThanOrEqual(0);
  const rows: string[] = [];
  let i = at + 1;
  while (i < lines.length && !lines[i]!.startsWith("|")) i++;
  for (i += 2; i < lines.length && lines[i]!.startsWith("|"); i++) rows.push(lines[i]!.split("|")[1]!.trim());
  return rows;
}

/** The flags a table documents: `--name` at the start of each first cell. */
const flagsOf = (intro: string) =>
  firstCells(intro)
    .map((c) => /^`--([a-z][a-z0-9-]*)/.exec(c)?.[1])
    .filter((f): f is string => f !== undefined)
    .sort();

const optionNames = (options: Record<string, unknown>) =>
  Object.keys(options)
    .filter((k) => k !== "help")
    .sort();

describe("the README's flag tables list exactly the flags each script accepts", () => {
  it.each([
    ["Flags of `npm run deploy:dev -- ...`", DEPLOY_OPTIONS],
    ["Flags of `npm run devnet -- ...`", DEVNET_OPTIONS],
    ["Flags of `npm run outputs -- ...`", OUTPUTS_OPTIONS],
    ["Flags of `npm run registry -- <Action> [json] ...`", REGISTRY_OPTIONS],
  ] as [string, Record<string, unknown>][])("%s", (intro, options) => {
    expect(flagsOf(intro)).toEqual(optionNames(options));
  });

  it("the devnet table's defaults are the parser's", () => {
    for (const cell of firstCells("Flags of `npm run devnet -- ...`")) {
      const [, name, value] = /^`--([a-z-]+) ([^`]+)`$/.exec(cell) ?? [];
      expect((DEVNET_OPTIONS as Record<string, { default?: unknown }>)[name!]?.default, cell).toBe(value);
    }
  });
});

describe("the README's command table", () => {
  const commands = firstCells("## Every command");
  it("names only npm scripts that exist, and every script a user runs", () => {
    const named = new Set(
      commands.flatMap((c) => [...c.matchAll(/`npm (?:run )?([a-z:]+)/g)].map((m) => m[1]!)),
    );
    for (const n of named) expect(scripts[n], `npm script ${n}`).toBeDefined();
    // Scripts that only other scripts run (lifecycle hooks, the provider's build) need no row.
    const internal = (k: string) => /^(pre|post)/.test(k) || k === "prepare" || k === "build";
    for (const k of Object.keys(scripts).filter((k) => !internal(k)))
      expect(named.has(k), `README row for npm run ${k}`).toBe(true);
  });
});

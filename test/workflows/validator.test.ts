import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { validateWorkflow } from "@action-validator/core";
import { describe, expect, it } from "vitest";
import { REPO } from "../infra/support/yaml";

/**
 * Every workflow (and example workflow) passes action-validator (@action-validator/cli and the wasm
 * build of its validator, @action-validator/core, both pinned in package.json), which checks a file
 * against GitHub's workflow schema and its globs: keys, event names, job and step shapes.
 * workflows.test.ts says what each workflow does; this says GitHub will run it at all. The validator
 * runs in this process (its wasm compiles once); one test runs the CLI as a developer would.
 */
const CLI = join(REPO, "node_modules", "@action-validator", "cli", "cli.mjs");
const DIRS = [join(".github", "workflows"), join(".github", "examples")];
const files = DIRS.flatMap((dir) =>
  readdirSync(join(REPO, dir))
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => join(dir, f)),
);

/** The validator's errors for a workflow, as JSON text (empty array when valid). */
const errorsOf = (yaml: string) => JSON.stringify(validateWorkflow(yaml).errors, null, 1);

describe("action-validator", () => {
  it("finds the workflows and the examples", () => {
    expect(files.filter((f) => f.includes("workflows")).length).toBeGreaterThanOrEqual(6);
    expect(files.filter((f) => f.includes("examples")).length).toBeGreaterThanOrEqual(1);
  });

  it.each(files)("%s is a valid GitHub Actions workflow", (file) => {
    expect(errorsOf(readFileSync(join(REPO, file), "utf8"))).toBe("[]");
  });

  it("runs as the command a developer uses (npx action-validator <file>), offline", () => {
    const file = join(".github", "workflows", "test.yml");
    const r = spawnSync(process.execPath, [CLI, file], { cwd: REPO, encoding: "utf8" });
    expect(`${r.stderr}${r.stdout}`).toBe("");
    expect(r.status).toBe(0);
  });

  describe("rejects what GitHub would refuse", () => {
    const head =
      "name: x\non: pull_request\npermissions:\n  contents: read\njobs:\n  a:\n    runs-on: ubuntu-latest\n";

    it.each([
      [
        "a misspelt key",
        `${head}    stepz:\n      - run: echo\n`,
        "Additional property 'stepz' is not allowed",
      ],
      ["a step that neither runs nor uses", `${head}    steps:\n      - name: nothing\n`, "/jobs/a/steps/0"],
      ["an unknown event", head.replace("pull_request", "pull_requests"), "/on"],
    ])("%s", (_what, yaml, error) => {
      expect(errorsOf(yaml)).toContain(error);
    });
  });
});

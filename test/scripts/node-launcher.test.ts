import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  chooseNode,
  MEMORY64_FLAG,
  memory64Flags,
  memory64Problem,
  missingMemory64Flags,
  PINNED_NODE,
  satisfies,
  testsNodeProblem,
} from "../../devnet/nodeVersions.cjs";
import { launch } from "../../scripts/node-launcher.cjs";
import { REPO } from "../infra/support/yaml";

const pkg = (file: string) =>
  JSON.parse(readFileSync(join(REPO, file), "utf8")) as { engines: { node: string } };
const RANGE = pkg("package.json").engines.node;
const LAUNCHER = join(REPO, "scripts", "node-launcher.cjs");

describe("what the launcher runs a program under", () => {
  it.each([
    ["v20.20.2", "pinned"],
    ["v22.11.0", "pinned"],
    ["v22.12.0", "running"],
    ["v22.23.3", "running"],
    ["v23.11.1", "pinned"],
    ["v24.0.0", "running"],
    ["v24.21.0", "running"],
    ["v25.2.0", "pinned"],
    ["v26.1.0", "running"],
  ])("Node.js %s: the %s one", (version, use) => {
    const choice = chooseNode(version, RANGE);
    expect(choice.use).toBe(use);
    expect(choice.version).toBe(use === "pinned" ? PINNED_NODE : version.slice(1));
  });

  it("refuses a pinned version outside the range rather than installing a Node.js that cannot run the tools", () => {
    expect(() => chooseNode("v20.20.2", RANGE, "20.19.0")).toThrow(/pinned Node.js 20.19.0 does not satisfy/);
  });

  it("package.json's engines admit no Node.js that vitest or @pulumi/pulumi refuses", () => {
    const tools = ["node_modules/vitest/package.json", "node_modules/@pulumi/pulumi/package.json"].map(
      (f) => pkg(f).engines.node,
    );
    const samples = [18, 20, 21, 22, 23, 24, 25, 26, 27].flatMap((major) =>
      [0, 11, 12, 19].map((minor) => `${major}.${minor}.0`),
    );
    for (const v of samples.filter((s) => satisfies(s, RANGE)))
      for (const tool of tools) expect(satisfies(v, tool), `${v} against ${tool}`).toBe(true);
    expect(satisfies(PINNED_NODE, RANGE)).toBe(true);
  });

  it("reads the range forms engines fields use", () => {
    expect(satisfies("22.12.0", "^22.12.0 || ^24.0.0 || >=26.0.0")).toBe(true);
    expect(satisfies("22.11.9", "^22.12.0 || ^24.0.0 || >=26.0.0")).toBe(false);
    expect(satisfies("23.0.0", ">=22 <23")).toBe(false);
    expect(satisfies("22.99.0", ">=22 <23")).toBe(true);
    expect(satisfies("v20.1.0", "20")).toBe(true);
    expect(() => satisfies("22.0.0", "~22.1")).toThrow(/unsupported range "~22.1"/);
    expect(() => satisfies("twenty", ">=22")).toThrow(/not a Node.js version/);
  });

  it("pins the Node.js that .nvmrc names and .ci/run installs", () => {
    expect(readFileSync(join(REPO, ".nvmrc"), "utf8").trim()).toBe(PINNED_NODE.split(".")[0]);
    expect(readFileSync(join(REPO, ".ci", "run"), "utf8")).toContain(`node@${PINNED_NODE}`);
  });
});

describe("the memory64 flag", () => {
  it.each([
    ["v20.20.2", [MEMORY64_FLAG]],
    ["v22.23.3", [MEMORY64_FLAG]],
    ["v23.11.1", [MEMORY64_FLAG]],
    ["v24.0.0", []],
    ["v26.1.0", []],
  ])("Node.js %s gets %j", (version, flags) => {
    expect(memory64Flags(version)).toEqual(flags);
  });

  it("names the flag a process was started without, and nothing when it has it or needs none", () => {
    expect(missingMemory64Flags("v22.23.3", [])).toEqual([MEMORY64_FLAG]);
    expect(missingMemory64Flags("v22.23.3", ["--expose-gc", MEMORY64_FLAG])).toEqual([]);
    expect(missingMemory64Flags("v24.21.0", [])).toEqual([]);
  });

  it("tells a user who ran an entry point by hand which command passes it", () => {
    expect(memory64Problem("v22.23.3", ["--import", "tsx"], "npm run devnet")).toBe(
      `Node.js v22.23.3 runs aos 2.0.x (wasm64) only with ${MEMORY64_FLAG}: use \`npm run devnet\`, which passes it`,
    );
    expect(memory64Problem("v24.21.0", [], "npm run devnet")).toBeUndefined();
  });

  it.each([
    ["devnet/cli.ts", "npm run devnet"],
    ["bench/run.ts", "npm run bench"],
  ])("%s started without the flag Node.js 22 needs says so in one line", (entry, script) => {
    if (memory64Flags(process.version).length === 0) {
      // Node.js 24 needs no flag: the entry point must start (and answer --help / run nothing).
      const r = spawnSync(process.execPath, ["--import", "tsx", entry, "--help"], {
        cwd: REPO,
        encoding: "utf8",
      });
      expect(r.stderr).not.toContain(MEMORY64_FLAG);
      expect(r.status).toBe(0);
      return;
    }
    const r = spawnSync(process.execPath, ["--import", "tsx", entry], { cwd: REPO, encoding: "utf8" });
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toMatch(
      new RegExp(`only with ${MEMORY64_FLAG}: use \`${script}\`, which passes it$`),
    );
  });
});

describe("the launcher as npm scripts run it", () => {
  const run = (args: string[]) =>
    spawnSync(process.execPath, [LAUNCHER, ...args], { cwd: REPO, encoding: "utf8", env: process.env });

  it("runs the program under this Node.js with exactly the flags it needs, silently", () => {
    // execArgv ends with the -p and its script.
    const r = run(["-p", "JSON.stringify([process.version, process.execArgv.slice(0, -2)])"]);
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toEqual([process.version, memory64Flags(process.version)]);
  });

  it("hands back the program's exit code", () => {
    expect(run(["-e", "process.exit(7)"]).status).toBe(7);
  });

  describe("below the versions the tools need", () => {
    // A project whose .node/ already holds the "pinned" Node.js (this one), run as if by Node.js 20.
    const root = mkdtempSync(join(tmpdir(), "launcher-"));
    mkdirSync(join(root, ".node", "bin"), { recursive: true });
    symlinkSync(process.execPath, join(root, ".node", "bin", "node"));
    writeFileSync(join(root, "package.json"), JSON.stringify({ engines: { node: RANGE } }));
    afterAll(() => rmSync(root, { recursive: true, force: true }));

    it("runs under the project's pinned Node.js, first on PATH, with its flags, and says so in one line", async () => {
      const lines: string[] = [];
      const bin = join(root, ".node", "bin");
      const expectFlag = memory64Flags(process.version).length > 0;
      const probe = `process.exit(process.env.PATH.split(require("path").delimiter)[0] === ${JSON.stringify(bin)} && process.execArgv.includes(${JSON.stringify(MEMORY64_FLAG)}) === ${expectFlag} ? 0 : 3)`;
      const r = await launch(["-e", probe], {
        root,
        env: { PATH: dirname(process.execPath) },
        log: (l) => lines.push(l),
        running: { version: "v20.20.2", execPath: "/usr/bin/node-that-is-not-run" },
        pinned: process.versions.node,
      });
      expect(r).toEqual({ code: 0 });
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`needs Node.js ${RANGE}, not v20.20.2`);
      expect(lines[0]).toContain(`running under Node.js ${process.versions.node} from `);
    });
  });
});

describe("the tests started directly (npx vitest) under a Node.js outside the engines range", () => {
  const range = JSON.parse(readFileSync(join(__dirname, "..", "..", "package.json"), "utf8")).engines.node;
  it("are refused in one line naming the versions and the npm script that picks a Node.js that fits", () => {
    expect(testsNodeProblem("v20.20.2", range)).toBe(
      `the tests need Node.js ${range}, not v20.20.2: run them with \`npm test\` or \`npm test -- <files>\`, which start them under a Node.js that fits (installing Node.js 22 once if needed)`,
    );
    for (const fits of ["v22.23.3", "v24.21.0"]) expect(testsNodeProblem(fits, range)).toBeUndefined();
  });

  it("vitest.config.mts refuses with that message before any test runs", () => {
    // The real vitest loading the real config, in a Node.js that reports itself as Debian's 20.
    const asNode20 = "data:text/javascript,Object.defineProperty(process,'version',{value:'v20.20.2'})";
    const r = spawnSync(
      process.execPath,
      ["--import", asNode20, "node_modules/vitest/vitest.mjs", "run", "test/scripts/localNetwork.test.ts"],
      { cwd: REPO, encoding: "utf8", timeout: 60_000 },
    );
    expect(r.status).not.toBe(0);
    expect(r.stdout + r.stderr).toContain(testsNodeProblem("v20.20.2", range));
    expect(r.stdout + r.stderr).not.toMatch(/Tests +\d+ passed/);
  });
});

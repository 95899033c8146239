/**
 * `pulumi up` loads infra/ with @pulumi/pulumi's own TypeScript support (cmd/run: the project's
 * typescript with the vendored ts-node 7, type-checking, the project's tsconfig). This loads the
 * program exactly that way, in a plain Node child, under mocks: a program that only runs under tsx or
 * vitest would fail here, not in the first real deployment.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect, it } from "vitest";
import { stackConfig } from "./support/program";

const REPO = join(__dirname, "..", "..");

// What cmd/run/run.js does for a CommonJS TypeScript project, then the program under mocks.
const LOADER = `
const path = require("path");
const root = process.argv[1];
const req = require("module").createRequire(path.join(root, "package.json"));
process.chdir(root);
const tsutils = req("@pulumi/pulumi/tsutils");
const semver = req("semver");
const { tsnodeRequire, typescriptRequire } = tsutils.typeScriptRequireStrings();
const compilerOptions = tsutils.loadTypeScriptCompilerOptions("tsconfig.json");
const ts = req(typescriptRequire);
const nodeNext = semver.parse(ts.version).compare(new semver.SemVer("4.7.0")) >= 0;
req(tsnodeRequire).register({
  compiler: req.resolve(typescriptRequire), project: "tsconfig.json", skipProject: false,
  compilerOptions: { target: "ES2020", module: nodeNext ? "nodenext" : "commonjs",
    moduleResolution: nodeNext ? "nodenext" : "node", sourceMap: "true", ...compilerOptions },
});
const pulumi = req("@pulumi/pulumi");
pulumi.runtime.setAllConfig(JSON.parse(process.argv[2]), []);
const types = [];
pulumi.runtime.setMocks({
  newResource: (a) => { types.push(a.type); return { id: a.name, state: a.inputs }; },
  call: (a) => a.inputs,
}, "aoRegistry", "production", true).then(async () => {
  const program = require(path.join(root, "infra"));
  await req("@pulumi/pulumi/runtime/settings").waitForRPCs();
  process.stdout.write(JSON.stringify({ types: types.sort(), exports: Object.keys(program).sort(), tsnode: tsnodeRequire }));
});
`;

it("the program loads with Pulumi's own TypeScript loader (vendored ts-node, type-checked)", async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["-e", LOADER, REPO, JSON.stringify(stackConfig("production"))],
    { cwd: REPO, encoding: "utf8", env: { ...process.env, GITHUB_TOKEN: "" }, timeout: 120_000 },
  );
  const result = JSON.parse(stdout);
  expect(result.tsnode).toContain("ts-node@7.0.1");
  expect(result.types).toEqual([
    "github:index/actionsSecret:ActionsSecret",
    "pulumi-nodejs:dynamic/ao:ActiveProcess",
    "pulumi-nodejs:dynamic/ao:AoProcess",
    "pulumi:providers:github",
  ]);
  expect(result.exports).toEqual(
    [
      "authority",
      "codeSha256",
      "deployedAt",
      "deploymentId",
      "endpoints",
      "githubSecret",
      "module",
      "network",
      "owner",
      "processId",
      "scheduler",
    ].sort(),
  );
}, 150_000);

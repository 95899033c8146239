/**
 * What the main command and the Pulumi program load at run time resolves to `dependencies`, never to a
 * `devDependency`: `npm ci --omit=dev` (what a deploy machine may install) must be enough to run them.
 * The import graph is read from the sources (static imports and literal `require`s), file by file.
 */
import { existsSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const REPO = join(__dirname, "..", "..");
const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** The entry points that run in production or for the README's main command. */
const ENTRIES = [
  "infra/index.ts", // the Pulumi program
  "providers/index.ts", // what Pulumi's provider host loads (compiled)
  "scripts/deploy-dev.ts", // npm run deploy:dev
  "scripts/outputs.ts", // npm run outputs (the CLI release reads stack outputs with it)
  "scripts/registry.ts", // npm run registry
  "devnet/cli.ts", // the local network deploy:dev starts
];

function resolveLocal(from: string, spec: string): string | undefined {
  const base = resolve(dirname(from), spec);
  for (const candidate of [
    base,
    `${base}.ts`,
    `${base}.cts`,
    `${base}.cjs`,
    `${base}.js`,
    join(base, "index.ts"),
  ])
    if (existsSync(candidate) && !candidate.endsWith("/")) {
      try {
        readFileSync(candidate);
        return candidate;
      } catch {
        // a directory
      }
    }
  return undefined;
}

const packageName = (spec: string) =>
  spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]!;

/** Every package (bare specifier) the files reachable from `entries` load, with one file that loads it. */
function packagesLoaded(entries: string[]): Map<string, string> {
  const seen = new Set<string>();
  const packages = new Map<string, string>();
  const todo = entries.map((e) => join(REPO, e));
  while (todo.length) {
    const file = todo.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(file, "utf8");
    const info = ts.preProcessFile(text, true, true);
    // Files a module reads out of a package (the aos module's WASM) count as loading it.
    const resolved = [...text.matchAll(/require\.resolve\(\s*["']([^"']+)["']/g)].map((m) => ({
      fileName: m[1]!,
    }));
    for (const { fileName: spec } of [...info.importedFiles, ...resolved]) {
      if (spec.startsWith(".")) {
        const local = resolveLocal(file, spec);
        if (!local) throw new Error(`${file}: cannot resolve ${spec}`);
        todo.push(local);
      } else if (!spec.startsWith("node:") && !builtinModules.includes(spec)) {
        if (!packages.has(packageName(spec))) packages.set(packageName(spec), file.slice(REPO.length + 1));
      }
    }
  }
  return packages;
}

describe("runtime code loads no devDependency", () => {
  it("every package the program, the provider and the main command load is a dependency", () => {
    const loaded = packagesLoaded(ENTRIES);
    const offenders = [...loaded]
      .filter(([name]) => !(name in pkg.dependencies))
      .map(
        ([name, file]) =>
          `${name} (loaded by ${file}${name in pkg.devDependencies ? ", a devDependency" : ", not declared"})`,
      );
    expect(offenders).toEqual([]);
    // The reader finds what it should (aoconnect is loaded by a computed import(), out of its sight).
    expect([...loaded.keys()]).toEqual(expect.arrayContaining(["@pulumi/pulumi", "luaparse", "zod"]));
  });

  it("the npm scripts of the main command and the build run only dependencies (tsx, tsc)", () => {
    const scripts = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")).scripts as Record<
      string,
      string
    >;
    const tools: Record<string, string> = { "--import tsx": "tsx", "tsc ": "typescript" };
    // The provider is compiled when npm ci installs the project (prepare): its type packages too.
    for (const types of ["@types/node", "@types/luaparse"]) expect(pkg.dependencies).toHaveProperty([types]);
    for (const name of ["deploy:dev", "outputs", "registry", "devnet", "build", "prepare"]) {
      for (const [usage, dependency] of Object.entries(tools))
        if (scripts[name]!.includes(usage))
          expect(pkg.dependencies, `npm run ${name} runs ${dependency}`).toHaveProperty([dependency]);
    }
  });
});

/**
 * No stale compiled provider runs: the build stamp tells providers/dist from the sources on disk, the
 * tests rebuild it (global setup), and the program refuses to run, naming `npm run build`.
 */
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { sourcesDigest, staleBuild, staleBuildMessage, writeStamp } from "../../scripts/provider-build.cjs";

const REPO = join(__dirname, "..", "..");

/** A copy of what the build reads (providers/*.ts and the tsconfigs), with a providers/dist to stamp. */
function copyOfSources(): string {
  const root = mkdtempSync(join(tmpdir(), "provider-build-"));
  mkdirSync(join(root, "providers", "dist"), { recursive: true });
  for (const f of readdirSync(join(REPO, "providers")).filter(
    (f) => f.endsWith(".ts") || f.endsWith(".json"),
  ))
    cpSync(join(REPO, "providers", f), join(root, "providers", f));
  cpSync(join(REPO, "tsconfig.json"), join(root, "tsconfig.json"));
  return root;
}

describe("the provider's build stamp", () => {
  it("matches after a build, and not after an edit of a source, a new source or a tsconfig change", () => {
    const root = copyOfSources();
    expect(staleBuild(root)).toMatch(/has not been built/);
    writeStamp(root);
    expect(staleBuild(root)).toBeUndefined();

    writeFileSync(join(root, "providers", "diff.ts"), "// an edit\n", { flag: "a" });
    expect(staleBuild(root)).toBe(
      "providers/dist was compiled from other sources than providers/*.ts on disk",
    );
    writeStamp(root);
    writeFileSync(join(root, "providers", "newModule.ts"), "export const x = 1;\n");
    expect(staleBuild(root)).toMatch(/other sources/);
    writeStamp(root);
    writeFileSync(join(root, "tsconfig.json"), "{}\n");
    expect(staleBuild(root)).toMatch(/other sources/);
  });

  it("the repository's own build is fresh while the tests run (the global setup saw to it)", () => {
    expect(staleBuild()).toBeUndefined();
    expect(sourcesDigest()).toMatch(/^[0-9a-f]{64}$/);
  });

  it("the program refuses to run on a stale build, in one line naming npm run build", () => {
    // The real program entry, in a Node.js whose file reads show it a stamp of other sources.
    const preload = join(mkdtempSync(join(tmpdir(), "stale-stamp-")), "stale.cjs");
    writeFileSync(
      preload,
      `const fs = require("node:fs"); const read = fs.readFileSync;
fs.readFileSync = function (f, ...rest) { return String(f).endsWith(".sources-sha256") ? "${"0".repeat(64)}\\n" : read.call(this, f, ...rest); };`,
    );
    const r = spawnSync(
      process.execPath,
      ["--require", preload, "--import", "tsx", "-e", 'require("./infra/index.ts")'],
      { cwd: REPO, encoding: "utf8", timeout: 60_000 },
    );
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(
      staleBuildMessage("providers/dist was compiled from other sources than providers/*.ts on disk"),
    );
  });
});

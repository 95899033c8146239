/**
 * Whether providers/dist (what Pulumi's provider host runs) was compiled from the providers/*.ts on disk.
 * `npm run build` compiles and then writes a stamp, the digest of every file the build reads; the tests'
 * global setup rebuilds when it does not match, and the program refuses to run, naming `npm run build`,
 * so that nothing ever runs the provider as it was before an edit. Plain CommonJS: the build runs it with
 * node alone (no TypeScript loader).
 *
 *   node scripts/provider-build.cjs --stamp   write the stamp (the build's last step)
 */
"use strict";
const { createHash } = require("node:crypto");
const { existsSync, readdirSync, readFileSync, writeFileSync } = require("node:fs");
const { join } = require("node:path");

const ROOT = join(__dirname, "..");
const PROVIDERS = join(ROOT, "providers");
const STAMP = join(PROVIDERS, "dist", ".sources-sha256");

/** The files the build reads: providers/*.ts (tsconfig.build.json's include), its tsconfigs. */
function buildInputs(root = ROOT) {
  const dir = join(root, "providers");
  const sources = readdirSync(dir)
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))
    .sort()
    .map((f) => join(dir, f));
  return [...sources, join(dir, "tsconfig.build.json"), join(root, "tsconfig.json")];
}

/** The digest of the build's inputs (names and contents). */
function sourcesDigest(root = ROOT) {
  const hash = createHash("sha256");
  for (const file of buildInputs(root)) {
    hash.update(`${file.slice(root.length)}\0`);
    hash.update(readFileSync(file));
    hash.update("\0");
  }
  return hash.digest("hex");
}

/** Why providers/dist does not match the sources (undefined when it does). */
function staleBuild(root = ROOT) {
  const stamp = join(root, "providers", "dist", ".sources-sha256");
  if (!existsSync(stamp)) return "providers/dist has not been built (or was built before build stamps)";
  if (readFileSync(stamp, "utf8").trim() !== sourcesDigest(root))
    return "providers/dist was compiled from other sources than providers/*.ts on disk";
  return undefined;
}

/** The one-line error a program or a test run gives for a stale build. */
function staleBuildMessage(why) {
  return `${why}: run \`npm run build\` (Pulumi's provider host runs providers/dist, not the TypeScript)`;
}

function writeStamp(root = ROOT) {
  writeFileSync(join(root, "providers", "dist", ".sources-sha256"), `${sourcesDigest(root)}\n`);
}

module.exports = { STAMP, PROVIDERS, buildInputs, sourcesDigest, staleBuild, staleBuildMessage, writeStamp };

if (require.main === module && process.argv[2] === "--stamp") writeStamp();

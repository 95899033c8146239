/**
 * Which Node.js runs this project's programs, and with which flags: pure decisions, shared by the
 * launcher (scripts/node-launcher.cjs), vitest's config and every place that starts a Node.js child.
 * Plain CommonJS with no dependencies: the launcher loads it on the Node.js 20 that Debian ships.
 */
"use strict";

/** The Node.js installed into the project when the running one is too old (what .ci/run uses too). */
const PINNED_NODE = "22.23.3";
const MEMORY64_FLAG = "--experimental-wasm-memory64";

/** [major, minor, patch] of "v22.12.0" or "22.12.0"; throws on anything else. */
function parseVersion(version) {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(String(version).trim());
  if (!m) throw new Error(`not a Node.js version: ${JSON.stringify(version)}`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

function compare(a, b) {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return 0;
}

/**
 * Whether a version satisfies a range of the forms engines fields use here: alternatives joined by
 * `||`, each one or more of `^x.y.z`, `>=x.y.z`, `>x.y.z`, `<=x.y.z`, `<x.y.z`, `x.y.z` (all must hold).
 */
function satisfies(version, range) {
  const v = parseVersion(version);
  return range.split("||").some((alternative) => {
    const parts = alternative.trim().split(/\s+/).filter(Boolean);
    if (parts.length === 0) throw new Error(`empty alternative in range ${JSON.stringify(range)}`);
    return parts.every((part) => {
      const m = /^(\^|>=|>|<=|<|=)?v?(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(part);
      if (!m) throw new Error(`unsupported range ${JSON.stringify(part)} in ${JSON.stringify(range)}`);
      const bound = [Number(m[2]), Number(m[3] ?? 0), Number(m[4] ?? 0)];
      const c = compare(v, bound);
      switch (m[1]) {
        case "^":
          return c >= 0 && v[0] === bound[0];
        case ">=":
          return c >= 0;
        case ">":
          return c > 0;
        case "<=":
          return c <= 0;
        case "<":
          return c < 0;
        default:
          return m[3] === undefined ? v[0] === bound[0] : c === 0;
      }
    });
  });
}

/**
 * The flags a Node.js needs to run aos 2.0.x modules (wasm64): Node.js up to 23 only with the
 * experimental flag (refused in NODE_OPTIONS: pass it on the command line); Node.js 24 and later have
 * standard memory64 and refuse the flag as a bad option.
 */
function memory64Flags(version) {
  return parseVersion(version)[0] < 24 ? [MEMORY64_FLAG] : [];
}

/** The memory64 flags a process of this Node.js was started without (empty when it can run aos). */
function missingMemory64Flags(version, execArgv) {
  return memory64Flags(version).filter((flag) => !execArgv.includes(flag));
}

/**
 * What to tell a user who started an entry point that loads aos without the flag this Node.js needs
 * (undefined when nothing is missing); `npmScript` is the command that passes it.
 */
function memory64Problem(version, execArgv, npmScript) {
  const missing = missingMemory64Flags(version, execArgv);
  if (missing.length === 0) return undefined;
  return `Node.js ${version} runs aos 2.0.x (wasm64) only with ${missing.join(" ")}: use \`${npmScript}\`, which passes it`;
}

/** The project's `engines.node` range (package.json), what the launcher and the tests hold Node.js to. */
function projectRange() {
  return require("../package.json").engines.node;
}

/**
 * What to tell a user who started the tests directly (`npx vitest`) under a Node.js outside `range`
 * (undefined when it fits): the npm script goes through the launcher, which picks one that fits.
 */
function testsNodeProblem(version, range) {
  if (satisfies(version, range)) return undefined;
  return `the tests need Node.js ${range}, not ${version}: run them with \`npm test\` or \`npm test -- <files>\`, which start them under a Node.js that fits (installing Node.js 22 once if needed)`;
}

/** Which Node.js runs the program: the running one when it satisfies the range, else the pinned one. */
function chooseNode(runningVersion, range, pinned = PINNED_NODE) {
  if (satisfies(runningVersion, range)) return { use: "running", version: runningVersion.replace(/^v/, "") };
  if (!satisfies(pinned, range)) throw new Error(`the pinned Node.js ${pinned} does not satisfy ${range}`);
  return { use: "pinned", version: pinned };
}

module.exports = {
  PINNED_NODE,
  MEMORY64_FLAG,
  parseVersion,
  satisfies,
  memory64Flags,
  missingMemory64Flags,
  memory64Problem,
  testsNodeProblem,
  projectRange,
  chooseNode,
};

#!/usr/bin/env node
/**
 * `node scripts/node-launcher.cjs <node arguments…>`: what every npm script runs its program with.
 *
 * Runs the program under the Node.js that started this file when it satisfies package.json's
 * `engines.node` (what vitest and @pulumi/pulumi need); otherwise under a pinned Node.js 22 that it
 * installs from the npm registry into this project (.node/, ignored by git), saying so in one line.
 * It passes `--experimental-wasm-memory64` only to a Node.js that needs it for aos 2.0.x (wasm64).
 * The decisions are in devnet/nodeVersions.cjs (beside the aos module whose flags they decide); this file does the installing and the running.
 *
 * Plain CommonJS with no dependencies: it must run on the Node.js 20 that Debian ships.
 */
"use strict";
const { spawn, spawnSync } = require("node:child_process");
const { existsSync, mkdirSync, renameSync, rmSync } = require("node:fs");
const { delimiter, dirname, join, relative } = require("node:path");
const { chooseNode, memory64Flags, PINNED_NODE } = require("../devnet/nodeVersions.cjs");

/** Where `npm install --global --prefix <prefix> node` puts the binary. */
function nodeBinIn(prefix) {
  return process.platform === "win32" ? join(prefix, "node.exe") : join(prefix, "bin", "node");
}

/** The project's own Node.js install. */
function pinnedNodePaths(root) {
  const prefix = join(root, ".node");
  return { prefix, bin: nodeBinIn(prefix) };
}

function versionOf(bin) {
  if (!existsSync(bin)) return undefined;
  const r = spawnSync(bin, ["--version"], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim().replace(/^v/, "") : undefined;
}

/** npm as it started this script (npm_execpath), else `npm` on PATH. */
function npmCommand(env) {
  const cli = env.npm_execpath;
  if (cli && /\.c?js$/.test(cli)) return [process.execPath, [cli]];
  return [process.platform === "win32" ? "npm.cmd" : "npm", []];
}

/** Installs Node.js `version` from the npm registry (the `node` package ships the binary) into .node/. */
function installPinnedNode(root, version, env) {
  const { prefix, bin } = pinnedNodePaths(root);
  // Into a scratch prefix, then renamed: a second launcher running meanwhile never sees half an install.
  const scratch = `${prefix}.${process.pid}.tmp`;
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  const [cmd, pre] = npmCommand(env);
  const r = spawnSync(
    cmd,
    [...pre, "install", "--global", "--prefix", scratch, `node@${version}`, "--no-audit", "--no-fund"],
    { encoding: "utf8", env, shell: process.platform === "win32" },
  );
  const installed = nodeBinIn(scratch);
  if (r.status !== 0 || versionOf(installed) !== version) {
    rmSync(scratch, { recursive: true, force: true });
    const why = r.error ? r.error.message : `${r.stderr ?? ""}${r.stdout ?? ""}`.trim().split("\n").slice(-5);
    throw new Error(
      `could not install Node.js ${version} from the npm registry into ${prefix} ` +
        `(npm install node@${version}: ${[].concat(why).join(" / ")}). ` +
        `Install Node.js 22 or 24 yourself (https://nodejs.org) and run the command again.`,
    );
  }
  // Another launcher may have finished first, and its program may be running: keep its install.
  if (versionOf(bin) === version) {
    rmSync(scratch, { recursive: true, force: true });
    return bin;
  }
  rmSync(prefix, { recursive: true, force: true }); // another version, or half of one
  try {
    renameSync(scratch, prefix);
  } catch (err) {
    rmSync(scratch, { recursive: true, force: true });
    if (versionOf(bin) !== version) throw err;
  }
  return bin;
}

/**
 * The binary and version to run, installing the pinned Node.js when needed; says so in one line.
 * `running` is the Node.js running this file (a parameter so that tests can stand for an old one).
 */
function resolveNode(root, range, env, log, running, pinned) {
  const choice = chooseNode(running.version, range, pinned);
  if (choice.use === "running") return { bin: running.execPath, version: choice.version };
  const { prefix, bin } = pinnedNodePaths(root);
  const where = relative(process.cwd(), prefix) || prefix;
  const why = `This project needs Node.js ${range}, not ${running.version}`;
  if (versionOf(bin) === choice.version) {
    log(`${why}: running under Node.js ${choice.version} from ${where}/.`);
    return { bin, version: choice.version };
  }
  log(`${why}: installing Node.js ${choice.version} from npm into ${where}/ (once) and running under it.`);
  return { bin: installPinnedNode(root, choice.version, env), version: choice.version };
}

/** Runs `node <args>` under the chosen Node.js; resolves with the exit code (signals re-raised). */
function launch(args, options = {}) {
  const root = options.root ?? join(__dirname, "..");
  const env = options.env ?? process.env;
  const log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
  const range = require(join(root, "package.json")).engines.node;
  const running = options.running ?? { version: process.version, execPath: process.execPath };
  const { bin, version } = resolveNode(root, range, env, log, running, options.pinned ?? PINNED_NODE);
  // First on PATH, so that what the program starts as `node` (Pulumi's language host) is this one too.
  const childEnv = { ...env, PATH: [dirname(bin), env.PATH].filter(Boolean).join(delimiter) };
  const child = spawn(bin, [...memory64Flags(version), ...args], { stdio: "inherit", env: childEnv });
  // The program decides what a signal does (vitest and the network shut down cleanly); pass them on.
  const signals = ["SIGINT", "SIGTERM", "SIGHUP"];
  const forward = (signal) => child.kill(signal);
  for (const s of signals) process.on(s, forward);
  return new Promise((resolve, reject) => {
    const done = () => {
      for (const s of signals) process.off(s, forward);
    };
    child.on("error", (err) => {
      done();
      reject(err);
    });
    child.on("exit", (code, signal) => {
      done();
      resolve(signal ? { signal } : { code: code ?? 1 });
    });
  });
}

module.exports = { launch };

if (require.main === module) {
  launch(process.argv.slice(2)).then(
    (r) => {
      if (r.signal) process.kill(process.pid, r.signal);
      else process.exitCode = r.code;
    },
    (err) => {
      process.stderr.write(`${err instanceof Error ? err.message : err}\n`);
      process.exitCode = 1;
    },
  );
}

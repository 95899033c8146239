/**
 * The local loop, end to end, each figure beside today's `deploy:local` (the stateless deploy this
 * repository had before the local engine, read from git at BASELINE_COMMIT) in the same run:
 *
 * - starting the local AO network in a fresh data directory (what the first `npm run deploy:dev`
 *   after `npm ci` pays before deploying);
 * - the first deploy, on an empty state;
 * - a re-run with no change (the local engine spawns nothing; the old deploy:local spawned again).
 *
 * Every deploy is a child process, timed from start to exit, as a user runs it.
 *
 *   npm run bench -- deploy
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateWallet } from "../devnet/wallet";
import { ensureNetwork } from "../scripts/lib/localNetwork";
import { EMPTY_ENV_WALLET } from "../test/support/wallets";
import { figure, section, timed } from "./report";

const REPO = join(__dirname, "..");
/** main when the local engine was written: its scripts/deploy-local.ts is the baseline. */
const BASELINE_COMMIT = "201c57f";

function runScript(script: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", script, ...args], {
      cwd: REPO,
      env: { ...process.env, ...EMPTY_ENV_WALLET, NODE_OPTIONS: "" },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let err = "";
    child.stderr!.on("data", (d: Buffer) => {
      err += d.toString();
    });
    child.once("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`${script} exited ${code}:\n${err.slice(-2000)}`)),
    );
  });
}

/** Today's deploy:local, from git, beside the scripts it imports; undefined outside a git checkout. */
function baselineScript(): string | undefined {
  try {
    const text = execFileSync("git", ["show", `${BASELINE_COMMIT}:scripts/deploy-local.ts`], {
      cwd: REPO,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
    const file = join(REPO, "scripts", `.bench-deploy-local-${process.pid}.ts`);
    writeFileSync(file, text);
    return file;
  } catch {
    return undefined;
  }
}

export async function run(): Promise<void> {
  section("deploy:dev's local loop (local engine) beside today's deploy:local");
  const dir = mkdtempSync(join(tmpdir(), "bench-deploy-"));
  const wallet = join(dir, "wallet.json");
  writeFileSync(wallet, JSON.stringify(generateWallet()), { mode: 0o600 });
  const baseline = baselineScript();
  let networkPid: number | undefined;
  try {
    const [startMs, net] = await timed(() =>
      ensureNetwork({ repoRoot: REPO, dataDir: join(dir, "net"), port: 0, log: () => {} }),
    );
    networkPid = net.startedPid;
    figure("start the local AO network (fresh data directory)", startMs / 1000, "s");
    const common = ["--network-file", join(dir, "net", "network.json"), "--wallet", wallet];
    const engine = (state: string) =>
      runScript("scripts/deploy-dev.ts", ["--local-engine", "--json", "--state", state, ...common]);
    const old = () => (baseline ? runScript(baseline, common) : Promise.resolve());

    const [oldFirst] = await timed(old);
    const [first] = await timed(() => engine(join(dir, "state")));
    const oldAgain = baseline ? (await timed(old))[0] : undefined;
    const [again] = await timed(() => engine(join(dir, "state")));
    const vs = (value: number | undefined) =>
      baseline && value !== undefined ? { baseline: { name: "deploy:local", value: value / 1000 } } : {};
    figure("first deploy, empty state (+ network start above)", first / 1000, "s", vs(oldFirst));
    figure("first deploy including the network start", (first + startMs) / 1000, "s", vs(oldFirst + startMs));
    figure("re-run with no change (deploy:local spawns again)", again / 1000, "s", vs(oldAgain));
    if (!baseline) console.log(`(no git checkout: today's deploy:local at ${BASELINE_COMMIT} not measured)`);
  } finally {
    if (baseline) unlinkSync(baseline);
    if (networkPid) process.kill(networkPid, "SIGTERM");
    await new Promise((r) => setTimeout(r, 500));
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `npm run deploy:dev` without the Pulumi CLI, end to end: the program in its own process, every
 * dynamic resource through @pulumi/pulumi's real dynamic-provider host, against a local AO network
 * started here, with a local state. Run as `scripts/deploy-dev.ts --local-engine` in a plain Node
 * child, as the CLI would run the program: closure serialization misbehaves under test runners'
 * module loaders (pulumi/pulumi#10480).
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AOS_MODULE_ID } from "../../devnet/modules";
import { createAoClient } from "../../providers/aoClient";
import type { StackState } from "../../scripts/lib/engine/state";
import { toCliConfig } from "../../scripts/outputs";
import { startFaultProxy } from "../providers/support/faultProxy";
import { infoTags, spawnsOf } from "../providers/support/network";
import { aoClient, type Devnet, graphql, withDevnet } from "../support/devnet";
import { EMPTY_ENV_WALLET, testWallet } from "../support/wallets";

const REPO = join(__dirname, "..", "..");
const deployer = testWallet("infra-deploy-local");
const GITHUB = "agent-skills/agent-skills-cli";
let net: Devnet & { cleanup(): Promise<void> };
let walletFile: string;
let stateDir: string;
type Outputs = Record<string, string> & { endpoints: Record<string, string> };
let first: { outputs: Outputs; stderr: string };

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** One `npm run deploy:dev -- --local-engine ...`, asynchronously: the network runs in this process. */
/** The command line of one local-engine deploy of the dev stack (this file's network, wallet and state). */
function deployArgs(args: string[], opts: { state?: string; networkFile?: string } = {}): string[] {
  return [
    "--import",
    "tsx",
    "scripts/deploy-dev.ts",
    "--local-engine",
    "--network-file",
    opts.networkFile ?? net.networkFile,
    "--wallet",
    walletFile,
    "--state",
    opts.state ?? stateDir,
    "--github",
    GITHUB,
    ...args,
  ];
}

function deploy(args: string[], opts: { state?: string; networkFile?: string } = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      deployArgs(args, opts),
      {
        cwd: REPO,
        encoding: "utf8",
        env: { ...process.env, ...EMPTY_ENV_WALLET, GITHUB_TOKEN: "" },
        timeout: 240_000,
      },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function deployJson(...args: string[]): Promise<{ outputs: Outputs; stderr: string }> {
  const r = await deploy(["--json", ...args]);
  if (r.code !== 0 && process.env.DBG_MOVE) {
    const c = aoClient(net, deployer.jwk);
    for (const pid of r.stderr.match(/[A-Za-z0-9_-]{43}/g) ?? []) {
      const x = await c
        .dryrun({
          process: pid,
          tags: [{ name: "Action", value: "State-Info" }],
          data: "{}",
          Owner: deployer.address,
        })
        .catch((e) => e);
      console.log("DBG", pid, JSON.stringify(x?.Messages?.[0]?.Data ?? String(x)));
      const su = await fetch(`${net.urls.su}/${pid}`)
        .then((h) => h.text())
        .catch(() => "");
      console.log("DBGSU", pid, su.slice(0, 4000));
    }
  }
  expect(r.code, r.stderr).toBe(0);
  return { outputs: JSON.parse(r.stdout) as Outputs, stderr: r.stderr };
}

const readStateFile = (dir = stateDir) =>
  JSON.parse(readFileSync(join(dir, "dev.json"), "utf8")) as StackState;

/** Every process the deploying wallet has spawned on the network, as the gateway lists them. */
async function processesOfDeployer(): Promise<string[]> {
  const data = await graphql<{ transactions: { edges: { node: { id: string } }[] } }>(
    net,
    `query($o: [String!]) { transactions(owners: $o, tags: [{ name: "Type", values: ["Process"] }], first: 100) { edges { node { id } } } }`,
    { o: [deployer.address] },
  );
  return data.transactions.edges.map((e) => e.node.id).sort();
}

const secretDigest = (value: string) =>
  `sha256:${createHash("sha256").update(JSON.stringify(value)).digest("hex")}`;

beforeAll(async () => {
  net = await withDevnet();
  const dir = mkdtempSync(join(tmpdir(), "deploy-local-"));
  walletFile = join(dir, "wallet.json");
  stateDir = join(dir, "state");
  writeFileSync(walletFile, JSON.stringify(deployer.jwk), { mode: 0o600 });
  first = await deployJson();
}, 300_000);

afterAll(async () => {
  await net?.cleanup();
});

describe("deploy:dev without the Pulumi CLI: the first run", () => {
  it("prints only the stack outputs on stdout, as one JSON object, with a real process owned by the wallet", () => {
    const o = first.outputs;
    expect(o.processId).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(o.owner).toBe(deployer.address);
    expect(o.module).toBe(AOS_MODULE_ID);
    expect(o.scheduler).toBe(net.schedulerId);
    // The dev stack's default: mainnet mode, the local network's HyperBEAM front door.
    expect(o.network).toBe("mainnet");
    expect(o.endpoints).toEqual({ network: "mainnet", node: net.urls.node });
  });

  it("printed the plan before acting, in Pulumi's notation", () => {
    const plan = first.stderr.slice(0, first.stderr.indexOf("created"));
    expect(plan).toMatch(/^ {2}\+ +ao:AoProcess +registry +create$/m);
    expect(plan).toMatch(/^ {2}\+ +ao:ActiveProcess +registry-active +create$/m);
    expect(plan).toMatch(/^ {2}\+ +github:index\/actionsSecret:ActionsSecret +registry-process-id +create$/m);
    expect(plan).toContain("Resources: + 4 to create");
  });

  it("records the process, and the GitHub secret holding its ID as a digest, in the state", () => {
    const s = readStateFile();
    const registry = s.resources.find((r) => r.name === "registry")!;
    expect(registry.id).toBe(first.outputs.processId);
    expect(registry.initErrors).toBeUndefined();
    const secret = s.resources.find((r) => r.type === "github:index/actionsSecret:ActionsSecret")!;
    expect(secret.inputs.value).toEqual({ secret: secretDigest(first.outputs.processId!) });
    expect(s.outputs).toEqual(first.outputs);
    expect(s.pendingOperations).toEqual([]);
  });

  it("the process answers a dry-run Info with the deployed code's hash", async () => {
    expect((await infoTags(net, deployer, first.outputs.processId!))["Code-Sha256"]).toBe(
      first.outputs.codeSha256,
    );
  });

  it("its outputs configure a CLI build, and `npm run outputs -- --stack dev` reads them from the state", async () => {
    expect(toCliConfig(JSON.stringify(first.outputs), "dev").processId).toBe(first.outputs.processId);
    const r = await new Promise<Run>((resolve) =>
      execFile(
        process.execPath,
        ["--import", "tsx", "scripts/outputs.ts", "--stack", "dev", "--state", stateDir, "--print", "env"],
        { cwd: REPO, encoding: "utf8" },
        (err, stdout, stderr) => resolve({ code: err ? 1 : 0, stdout, stderr }),
      ),
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`REGISTRY_PROCESS_ID=${first.outputs.processId}`);
    expect(r.stdout).toContain(`AO_NETWORK=mainnet\nAO_NODE_URL=${net.urls.node}\n`);
  });
});

/** `npm run registry -- <args>` on a stack deployed to `state` (AO_WALLET_FILE: the stack's wallet for writes). */
function registryCommand(args: string[], opts: { state?: string; wallet?: string } = {}): Promise<Run> {
  return new Promise((resolve) =>
    execFile(
      process.execPath,
      ["--import", "tsx", "scripts/registry.ts", ...args, "--state", opts.state ?? stateDir],
      {
        cwd: REPO,
        encoding: "utf8",
        env: { ...process.env, ...EMPTY_ENV_WALLET, AO_WALLET_FILE: opts.wallet ?? "" },
        timeout: 120_000,
      },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

/** The first exchange the README shows, through `npm run registry`, on a stack deployed to `state`. */
async function firstExchange(state: string, outputs: Outputs, name: string): Promise<void> {
  // Reads need no wallet: the variables are empty and the dev wallet is not this stack's.
  const info = await registryCommand(["Info"], { state });
  expect(info.code, info.stderr).toBe(0);
  expect(info.stderr).toContain(`dry-run Info -> ${outputs.processId}`);
  expect(info.stdout.split("\n")[0]).toBe("Info-Response OK");
  expect(JSON.parse(info.stdout.slice(info.stdout.indexOf("\n") + 1)).process).toBe(outputs.processId);

  const withoutWallet = await registryCommand(["Register-Skill", JSON.stringify(skill(name))], {
    state,
    wallet: join(tmpdir(), "no-such-wallet.json"),
  });
  expect(withoutWallet.code).toBe(1);
  expect(withoutWallet.stderr).toMatch(/AO_WALLET_FILE .* cannot be read/);

  const registered = await registryCommand(["Register-Skill", JSON.stringify(skill(name)), "--json"], {
    state,
    wallet: walletFile,
  });
  expect(registered.code, registered.stderr).toBe(0);
  expect(registered.stderr).toContain(`message Register-Skill -> ${outputs.processId}`);
  const body = JSON.parse(registered.stdout) as { ok: boolean; skill: { publisher: string } };
  expect(body.ok).toBe(true);
  expect(body.skill.publisher).toBe(deployer.address);

  const got = await registryCommand(["Get-Skill", JSON.stringify({ name }), "--json"], { state });
  expect(got.code, got.stderr).toBe(0);
  expect((JSON.parse(got.stdout) as { skill: { name: string } }).skill.name).toBe(name);
  const found = await registryCommand(["Search-Skills", JSON.stringify({ name }), "--json"], { state });
  expect((JSON.parse(found.stdout) as { skills: { name: string }[] }).skills.map((s) => s.name)).toEqual([
    name,
  ]);
  // A registry error is the reply's status and a non-zero exit, with the reply printed.
  const missing = await registryCommand(["Get-Skill", JSON.stringify({ name: "no-such-skill" })], { state });
  expect(missing.code).toBe(1);
  expect(missing.stdout.split("\n")[0]).toBe("Get-Skill-Response Error E_SKILL_NOT_FOUND");
}

describe("a second run with no change", () => {
  it("spawns nothing and prints the same outputs", async () => {
    const before = await processesOfDeployer();
    const again = await deployJson();
    expect(again.outputs).toEqual(first.outputs);
    expect(again.stderr).toContain("no changes");
    expect(await processesOfDeployer()).toEqual(before);
  }, 300_000);
});

describe("--preview", () => {
  it("prints the replacement an adoption would make, with the property that forces it, and changes nothing", async () => {
    const before = readFileSync(join(stateDir, "dev.json"), "utf8");
    const other = "A".repeat(43);
    const r = await deploy(["--preview", `--adopt=${other}`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(
      /^ {2}\+- +ao:AoProcess +registry +replace +\[diff: .*~adoptProcessId.*\] forces replacement: adoptProcessId$/m,
    );
    expect(r.stderr).toMatch(
      /^ {2}~ +github:index\/actionsSecret:ActionsSecret +registry-process-id +update/m,
    );
    expect(r.stderr).toMatch(/^ {2}- +ao:AoProcess +registry +delete original$/m);
    // What will move, read from the current process: the preview says how much.
    expect(r.stderr).toContain(
      `AoActiveProcess: will move the state of ${first.outputs.processId} (0 entries, 0.0 KiB, about 1 page of 256.0 KiB) into the new process`,
    );
    expect(r.stderr).toMatch(/^ {2}~ +ao:ActiveProcess +registry-active +update +\[diff: .*~processId/m);
    expect(readFileSync(join(stateDir, "dev.json"), "utf8")).toBe(before);
  }, 120_000);

  it("names the network as what forces a replacement when the stack changes network", async () => {
    const before = readFileSync(join(stateDir, "dev.json"), "utf8");
    const r = await deploy(["--preview", "--config", "network=legacy"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /^ {2}\+- +ao:AoProcess +registry +replace .*forces replacement: endpoints\.network$/m,
    );
    expect(readFileSync(join(stateDir, "dev.json"), "utf8")).toBe(before);
  }, 120_000);
});

describe("the same program on the legacy network (aoRegistry:network legacy)", () => {
  it("deploys through the legacy units, then a second run changes nothing", async () => {
    const state = join(mkdtempSync(join(tmpdir(), "deploy-legacy-")), "state");
    const run = async () => {
      const r = await deploy(["--json", "--config", "network=legacy"], { state });
      expect(r.code, r.stderr).toBe(0);
      return { outputs: JSON.parse(r.stdout) as Outputs, stderr: r.stderr };
    };
    const legacy = await run();
    expect(legacy.outputs.network).toBe("legacy");
    expect(legacy.outputs.endpoints).toEqual({
      network: "legacy",
      mu: net.urls.mu,
      cu: net.urls.cu,
      gateway: net.urls.gateway,
    });
    expect(legacy.outputs.processId).not.toBe(first.outputs.processId);
    expect((await infoTags(net, deployer, legacy.outputs.processId!))["Code-Sha256"]).toBe(
      legacy.outputs.codeSha256,
    );
    const again = await run();
    expect(again.outputs).toEqual(legacy.outputs);
    expect(again.stderr).toContain("no changes");
    await firstExchange(state, legacy.outputs, "first-exchange-legacy");
  }, 400_000);
});

/** A registry request from the publisher: a message for writes, a dry-run for reads; the reply body. */
async function registry(pid: string, action: string, data: unknown, write = false) {
  const c = publisherClient();
  const tags = [{ name: "Action", value: action }];
  const r = write
    ? await c.send(pid, tags, JSON.stringify(data))
    : await c.dryrun({ process: pid, tags, data: JSON.stringify(data), Owner: publisher.address });
  const m = (r.Messages ?? [])[0] as { Data: string; Tags: { name: string; value: string }[] };
  return { body: JSON.parse(m.Data) as { ok: boolean; error?: { code: string } }, tags: m.Tags };
}
const publisher = testWallet("infra-deploy-local-publisher");
let publisherAo: ReturnType<typeof aoClient> | undefined;
const publisherClient = () => (publisherAo ??= aoClient(net, publisher.jwk));
const skill = (name: string) => ({ name, description: `the ${name} skill` });

describe("rollback by adoption (what rollback.yml runs), through the same engine: the data follows", () => {
  it("moves the registry into an adopted process, then back into the first with what was written since", async () => {
    expect(
      (await registry(first.outputs.processId!, "Register-Skill", skill("before-move"), true)).body.ok,
    ).toBe(true);
    // A process as the stack's own mainnet deploys make them: through the node, trusting the node's
    // address (the recorded authority), so that the two registries can answer each other (a rollback
    // asks the process it returns from to confirm its state).
    const other = await createAoClient({ network: "mainnet", node: net.urls.node! }, deployer.jwk)
      .spawner({
        module: net.moduleId,
        scheduler: net.schedulerId,
        authority: first.outputs.authority!,
        tags: [],
      })
      .send();
    const moved = await deployJson(`--adopt=${other}`);
    expect(moved.outputs.processId).toBe(other);
    expect(moved.stderr).toMatch(/\+- ao:AoProcess registry replaced/);
    expect(moved.stderr).toMatch(/AoActiveProcess: opened .* digest [0-9a-f]{64} matches \(1 entries\)/);
    expect(moved.stderr).toMatch(/- ao:AoProcess registry deleted original/);
    // The last lines name the previous process and how to go back to it.
    expect(moved.stderr.trim().split("\n").slice(-2)).toEqual([
      `The stack's registry process is now ${other}; it was ${first.outputs.processId}.`,
      `To go back: npm run deploy:dev -- --adopt=${first.outputs.processId} (the state moves back with what was written since).`,
    ]);
    expect(
      readStateFile()
        .resources.filter((r) => r.name === "registry")
        .map((r) => r.id),
    ).toEqual([other]);
    expect((await registry(other, "Get-Skill", { name: "before-move" })).body.ok).toBe(true);
    const refused = await registry(first.outputs.processId!, "Register-Skill", skill("too-late"), true);
    expect(refused.body.error?.code).toBe("E_MOVED");
    expect(refused.tags).toContainEqual({ name: "Moved-To", value: other });
    expect((await registry(other, "Register-Skill", skill("after-move"), true)).body.ok).toBe(true);

    const spawned = await processesOfDeployer();
    const back = await deployJson(`--adopt=${first.outputs.processId!}`);
    expect(back.outputs.processId).toBe(first.outputs.processId);
    expect(back.outputs.deploymentId).not.toBe(first.outputs.deploymentId);
    for (const name of ["before-move", "after-move"])
      expect((await registry(first.outputs.processId!, "Get-Skill", { name })).body.ok, name).toBe(true);
    expect((await registry(first.outputs.processId!, "Get-Skill", { name: "too-late" })).body.ok).toBe(false);
    expect((await registry(other, "Register-Skill", skill("on-the-old-one"), true)).body.error?.code).toBe(
      "E_MOVED",
    );
    const secret = readStateFile().resources.find(
      (r) => r.type === "github:index/actionsSecret:ActionsSecret",
    )!;
    expect(secret.inputs.value).toEqual({ secret: secretDigest(first.outputs.processId!) });
    expect((await infoTags(net, deployer, first.outputs.processId!))["Code-Sha256"]).toBe(
      back.outputs.codeSha256,
    );
    expect(await processesOfDeployer()).toEqual(spawned);
  }, 300_000);
});

describe("npm run registry: the stack's process, from its outputs (mainnet mode)", () => {
  // After the rollback: the stack names the first process again, which holds what the tests above wrote.
  it("answers Info, Register-Skill, Get-Skill and Search-Skills; reads without a wallet, writes signed by the stack's", async () => {
    await firstExchange(stateDir, first.outputs, "first-exchange");
  }, 300_000);
});

describe("a deploy killed in the middle of a move", () => {
  it("is finished by the next run: same new process, no second spawn, every record moved", async () => {
    const dir = mkdtempSync(join(tmpdir(), "deploy-move-killed-"));
    const state = join(dir, "state");
    const run = (args: string[]) => deploy(["--json", ...args], { state });
    const base = await run([]);
    expect(base.code, base.stderr).toBe(0);
    const a = (JSON.parse(base.stdout) as Outputs).processId!;
    for (let i = 0; i < 24; i++)
      expect((await registry(a, "Register-Skill", skill(`skill-${i}`), true)).body.ok).toBe(true);
    // A new App-Name tag replaces the process (a spawn), as a code change does; small pages make many.
    const release = ["--config", "appName=Agent-Skills-Registry-2", "--config", "movePageBytes=1024"];
    const args = deployArgs(release, { state });
    const child: ChildProcess = spawn(process.execPath, args, {
      cwd: REPO,
      detached: true,
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, ...EMPTY_ENV_WALLET },
    });
    let stderr = "";
    await new Promise<void>((resolve, reject) => {
      child.stderr!.on("data", (d: Buffer) => {
        stderr += d.toString();
        if (/moved page 3\//.test(stderr)) resolve();
      });
      child.once("exit", () => reject(new Error(`the deploy ended before page 3:\n${stderr}`)));
    });
    process.kill(-child.pid!, "SIGKILL");
    await new Promise((r) => child.once("exit", r));
    expect(stderr).toMatch(/froze /);
    // The stack still names the old process, frozen, holding every record; the new one is recorded.
    const killed = JSON.parse(readFileSync(join(state, "dev.json"), "utf8")) as StackState;
    expect(killed.outputs.processId).toBe(a);
    const target = killed.resources.find((r) => r.name === "registry" && !r.delete)!.id;
    expect(target).not.toBe(a);
    expect((await registry(a, "Get-Skill", { name: "skill-23" })).body.ok).toBe(true);

    const before = await processesOfDeployer();
    const resumed = await deploy(["--json", ...release], { state });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resuming the move /);
    expect(resumed.stderr).toMatch(/[3-9]\d* of \d+ pages were already in /);
    expect((JSON.parse(resumed.stdout) as Outputs).processId).toBe(target);
    for (let i = 0; i < 24; i++)
      expect((await registry(target, "Get-Skill", { name: `skill-${i}` })).body.ok, `skill-${i}`).toBe(true);
    expect(await processesOfDeployer()).toEqual(before);
  }, 300_000);
});

describe("Ctrl-C in the middle of a move", () => {
  it("says the registry is frozen (writes refused, reads go on) and that the next run finishes the move", async () => {
    const dir = mkdtempSync(join(tmpdir(), "deploy-move-interrupted-"));
    const state = join(dir, "state");
    const base = await deploy(["--json"], { state });
    expect(base.code, base.stderr).toBe(0);
    const a = (JSON.parse(base.stdout) as Outputs).processId!;
    for (let i = 0; i < 12; i++)
      expect((await registry(a, "Register-Skill", skill(`ctrl-c-${i}`), true)).body.ok).toBe(true);
    const release = ["--config", "appName=Agent-Skills-Registry-3", "--config", "movePageBytes=1024"];
    const child: ChildProcess = spawn(process.execPath, deployArgs(release, { state }), {
      cwd: REPO,
      detached: true,
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, ...EMPTY_ENV_WALLET },
    });
    let stderr = "";
    await new Promise<void>((resolve, reject) => {
      child.stderr!.on("data", (d: Buffer) => {
        stderr += d.toString();
        if (/moved page 2\//.test(stderr)) resolve();
      });
      child.once("exit", () => reject(new Error(`the deploy ended before page 2:\n${stderr}`)));
    });
    // What a terminal's Ctrl-C does: SIGINT to the whole process group.
    process.kill(-child.pid!, "SIGINT");
    const code = await new Promise<number | null>((r) => child.once("exit", (c) => r(c)));
    await new Promise((r) => setTimeout(r, 100)); // the last stderr chunk
    expect(code).toBe(130);
    const target = (JSON.parse(readFileSync(join(state, "dev.json"), "utf8")) as StackState).resources.find(
      (r) => r.name === "registry" && !r.delete,
    )!.id;
    expect(stderr).toContain(
      `Interrupted during a move: the registry ${a} is frozen for ${target} and refuses writes (E_MOVED) until the move finishes; reads still work.`,
    );
    expect(stderr).toContain(
      "Run `npm run deploy:dev` again: it finds the processes this run made and finishes where it stopped.",
    );
    // What it says holds: writes are refused, reads work, and the next run finishes the move.
    expect((await registry(a, "Register-Skill", skill("during"), true)).body.error?.code).toBe("E_MOVED");
    expect((await registry(a, "Get-Skill", { name: "ctrl-c-11" })).body.ok).toBe(true);
    const resumed = await deploy(["--json", ...release], { state });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect((JSON.parse(resumed.stdout) as Outputs).processId).toBe(target);
  }, 300_000);
});

describe("an interrupted run", () => {
  it("is finished by the next run in the same process; a concurrent run is refused meanwhile", async () => {
    // The node behind a proxy that refuses every message (the Eval) while `hold` is set: the run
    // spawns, then waits.
    let hold = true;
    const mu = await startFaultProxy(net.urls.node!, (r) =>
      r.url.endsWith("~process@1.0/push") && hold ? { status: 503 } : "pass",
    );
    const dir = mkdtempSync(join(tmpdir(), "deploy-interrupted-"));
    const networkFile = join(dir, "network.json");
    const info = JSON.parse(readFileSync(net.networkFile, "utf8"));
    writeFileSync(networkFile, JSON.stringify({ ...info, urls: { ...info.urls, node: mu.url } }));
    const state = join(dir, "state");
    try {
      const child: ChildProcess = spawn(process.execPath, deployArgs([], { state, networkFile }), {
        cwd: REPO,
        detached: true,
        stdio: "ignore",
        env: { ...process.env, ...EMPTY_ENV_WALLET },
      });
      // Wait until the spawn is journaled, then kill the run and its provider host (-9, whole group).
      let journaled: string | undefined;
      for (let i = 0; i < 600 && !journaled; i++) {
        await new Promise((r) => setTimeout(r, 200));
        if (!existsSync(join(state, "dev.json"))) continue;
        const r = readStateFile(state).resources.find((x) => x.name === "registry");
        if (r?.initErrors) journaled = r.id;
      }
      expect(journaled).toMatch(/^[A-Za-z0-9_-]{43}$/);

      const second = await deploy(["--json"], { state, networkFile });
      expect(second.code).toBe(1);
      expect(second.stderr).toMatch(/^error: another deploy of this stack is running \(pid \d+/m);
      expect(second.stderr).not.toMatch(/^\s+at /m);

      process.kill(-child.pid!, "SIGKILL");
      await new Promise((r) => child.once("exit", r));
      hold = false;

      const resumed = await deploy(["--json"], { state, networkFile });
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(resumed.stderr).toMatch(/taking over the lock .*no longer running/);
      expect(resumed.stderr).toMatch(
        /^ {2}~ +ao:AoProcess +registry +update .*\(resume after an init error\)$/m,
      );
      const outputs = JSON.parse(resumed.stdout) as Outputs;
      expect(outputs.processId).toBe(journaled);
      expect(await spawnsOf(net, outputs.deploymentId!)).toEqual([journaled]);
      expect((await infoTags(net, deployer, journaled!))["Code-Sha256"]).toBe(outputs.codeSha256);
      expect(readStateFile(state).resources.find((x) => x.name === "registry")!.initErrors).toBeUndefined();
    } finally {
      hold = false;
      await mu.close();
    }
  }, 300_000);
});

describe("a stopped local network", () => {
  it("fails within seconds in one line that says how to start it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "deploy-stopped-"));
    const networkFile = join(dir, "network.json");
    const info = JSON.parse(readFileSync(net.networkFile, "utf8"));
    const dead = "http://127.0.0.1:9";
    writeFileSync(
      networkFile,
      JSON.stringify({ ...info, urls: { mu: dead, cu: dead, su: dead, gateway: dead, node: dead } }),
    );
    const r = await deploy([], { state: join(dir, "state"), networkFile });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^error: the local AO network of .* does not answer at http:\/\/127\.0\.0\.1:9: start it \(npm run devnet/m,
    );
    expect(r.stderr).not.toMatch(/retrying|^\s+at /m);
  }, 60_000);
});

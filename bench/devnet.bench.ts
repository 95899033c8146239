import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDevnet } from "../devnet";
import { memory64Flags } from "../devnet/nodeVersions.cjs";
import { startAosInstance } from "../test/support/aosInstance";
import { aoClient, startDevnetProcess } from "../test/support/devnet";
import { testWallet } from "../test/support/wallets";
import { aosNativeMsPerMessage } from "./aosNative";
import { figure, median, section, timed } from "./report";

// A registry-like handler in plain Lua 5.3 (no aos libraries), so that the very same function runs on the
// aos module inside the compute unit and natively on Lua 5.3 as the baseline.
const HANDLER = `
Skills = Skills or {}
SkillCount = SkillCount or 0
function RegisterSkill(msg)
  local name = msg.Tags.Name
  if type(name) ~= "string" or not name:match("^[a-z][a-z0-9-]*$") or #name > 64 then
    return msg.reply({ Data = "error: bad name" })
  end
  local s = Skills[name]
  if not s then s = { name = name, publisher = msg.From, versions = {} }; Skills[name] = s; SkillCount = SkillCount + 1 end
  local v = msg.Tags.Version
  if s.versions[v] then return msg.reply({ Data = "error: duplicate version" }) end
  s.versions[v] = { tx = msg.Tags.Bundle, at = msg.Timestamp }
  msg.reply({ Data = "ok " .. name .. "@" .. v .. " (" .. SkillCount .. " skills)" })
end
`;

const NATIVE_HARNESS = `
local N = tonumber(arg[1])
local outbox = {}
local function mk(i)
  local m = { Tags = { Name = "skill-" .. (i % 5000), Version = "1.0." .. i, Bundle = string.rep("a", 43) }, From = "addr", Timestamp = i }
  m.reply = function(r) outbox[#outbox + 1] = r end
  return m
end
for i = 1, 1000 do RegisterSkill(mk(-i)) end
local t0 = os.clock()
for i = 1, N do RegisterSkill(mk(i)); if #outbox > 1000 then outbox = {} end end
io.write(string.format("%.6f", (os.clock() - t0) * 1000 / N))
`;

function nativeLuaMsPerCall(n: number): number | undefined {
  const dir = mkdtempSync(join(tmpdir(), "bench-lua-"));
  try {
    const file = join(dir, "bench.lua");
    writeFileSync(file, `${HANDLER}\n${NATIVE_HARNESS}`);
    return Number(execFileSync("lua5.3", [file, String(n)], { encoding: "utf8" }));
  } catch {
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function computePerMessage(): Promise<void> {
  section("compute unit: one aos instance, registry-like handler");
  const { vm, env, msg, load, evaluate, history } = await startAosInstance("bench");
  await load(`${HANDLER}\nHandlers.add("register", "Register", RegisterSkill)`);
  const N = 2000;
  const register = (i: number) =>
    msg([
      { name: "Action", value: "Register" },
      { name: "Name", value: `skill-${i % 5000}` },
      { name: "Version", value: `1.0.${i}` },
      { name: "Bundle", value: "a".repeat(43) },
    ]);
  for (let i = 0; i < 200; i++) await evaluate(register(-i - 1));
  // The same messages, in the same order, for the module here and for aos's Lua natively.
  const warmup = [...history];
  const measured = Array.from({ length: N }, (_, i) => register(i));
  const t0 = performance.now();
  for (const m of measured) await vm.evaluate(m, env);
  const perMessage = (performance.now() - t0) / N;
  const aos = aosNativeMsPerMessage(env, warmup, measured);
  if ("ms" in aos) {
    figure("aos module: registry-like message", perMessage, "ms", {
      baseline: { name: "aos's own Lua on native Lua 5.3, same messages", value: aos.ms },
      target: { max: 2 * aos.ms, unit: " ms (2x native)" },
    });
  } else {
    figure("aos module: registry-like message", perMessage, "ms");
    console.log(`   (baseline unavailable: ${aos.unavailable})`);
  }
  const bare = nativeLuaMsPerCall(200_000);
  if (bare !== undefined) figure("  the handler alone, without aos, on native Lua 5.3", bare, "ms");
  const dry: number[] = [];
  for (let i = 0; i < 50; i++) {
    dry.push((await timed(() => vm.dryRun(register(10_000 + i), env)))[0]);
    await new Promise((r) => setTimeout(r, 5)); // a client's think time: memory is put back meanwhile
  }
  figure("aos module: dry-run, evaluate + answer (median of 50)", median(dry), "ms", { target: { max: 5 } });
  const afterWrite: number[] = [];
  for (let i = 0; i < 20; i++) {
    await vm.evaluate(register(30_000 + i), env);
    afterWrite.push((await timed(() => vm.dryRun(register(40_000 + i), env)))[0]);
  }
  figure("aos module: dry-run right after a message (median of 20)", median(afterWrite), "ms", {
    target: { max: 5 },
  });
  const t2 = performance.now();
  for (let i = 0; i < 50; i++) await vm.dryRun(register(20_000 + i), env);
  figure(
    "aos module: back-to-back dry-runs incl. putting memory back (mean)",
    (performance.now() - t2) / 50,
    "ms",
  );
  const [snapMs, snap] = await timed(async () => vm.snapshot());
  figure(
    `snapshot of the process memory (${(vm.memoryBytes() / 2 ** 20).toFixed(0)} MiB live)`,
    snapMs,
    "ms",
  );
  figure("snapshot size on disk", snap.length / 2 ** 20, "MiB");
}

async function overHttp(): Promise<void> {
  section("local network over HTTP, unmodified aoconnect");
  const dataDir = mkdtempSync(join(tmpdir(), "bench-devnet-"));
  const net = await startDevnet({ port: 0, dataDir });
  try {
    const alice = testWallet("alice");
    const ao = aoClient(net, alice.jwk);
    const deploy = {
      spawn: [] as number[],
      eval: [] as number[],
      result: [] as number[],
      dryrun: [] as number[],
      total: [] as number[],
    };
    let pid = "";
    for (let i = 0; i < 7; i++) {
      const t0 = performance.now();
      const [s, p] = await timed(() =>
        ao.spawn({
          module: net.moduleId,
          scheduler: net.schedulerId,
          signer: ao.signer,
          tags: [{ name: "Authority", value: net.authority }],
        }),
      );
      pid = p;
      const [e, id] = await timed(() =>
        ao.message({
          process: pid,
          signer: ao.signer,
          tags: [{ name: "Action", value: "Eval" }],
          data: `${HANDLER}\nHandlers.add("register", "Register", RegisterSkill)`,
        }),
      );
      const [r] = await timed(() => ao.result({ process: pid, message: id }));
      const [d] = await timed(() =>
        ao.dryrun({
          process: pid,
          tags: [
            { name: "Action", value: "Register" },
            { name: "Name", value: "x" },
            { name: "Version", value: "1" },
          ],
        }),
      );
      deploy.spawn.push(s);
      deploy.eval.push(e);
      deploy.result.push(r);
      deploy.dryrun.push(d);
      deploy.total.push(performance.now() - t0);
    }
    figure("deploy: spawn (median of 7)", median(deploy.spawn), "ms");
    figure("deploy: Eval message", median(deploy.eval), "ms");
    figure("deploy: Eval result", median(deploy.result), "ms");
    figure("deploy: dry-run", median(deploy.dryrun), "ms", { target: { max: 5 } });
    figure("deploy: spawn + Eval + result + dry-run", median(deploy.total), "ms", { target: { max: 150 } });

    const send = async (i: number) => {
      const id = await ao.message({
        process: pid,
        signer: ao.signer,
        tags: [
          { name: "Action", value: "Register" },
          { name: "Name", value: `s${i}` },
          { name: "Version", value: "1.0.0" },
        ],
      });
      await ao.result({ process: pid, message: id });
    };
    const SEQ = 100;
    const [seqMs] = await timed(async () => {
      for (let i = 0; i < SEQ; i++) await send(i);
    });
    figure("sequential message + result", (SEQ * 1000) / seqMs, "msg/s");
    const CONC = 200;
    const [concMs] = await timed(() => Promise.all(Array.from({ length: CONC }, (_, i) => send(1000 + i))));
    figure("concurrent message + result (200 in flight)", (CONC * 1000) / concMs, "msg/s", {
      baseline: { name: "sequential", value: (SEQ * 1000) / seqMs },
    });
    const dry: number[] = [];
    for (let i = 0; i < 50; i++) {
      dry.push(
        (
          await timed(() =>
            ao.dryrun({
              process: pid,
              tags: [
                { name: "Action", value: "Register" },
                { name: "Name", value: `d${i}` },
                { name: "Version", value: "1" },
              ],
            }),
          )
        )[0],
      );
    }
    figure("dry-run over HTTP, distinct queries (median of 50)", median(dry), "ms", { target: { max: 5 } });
    const repeated: number[] = [];
    const same = {
      process: pid,
      tags: [
        { name: "Action", value: "Register" },
        { name: "Name", value: "same" },
        { name: "Version", value: "1" },
      ],
    };
    for (let i = 0; i < 50; i++) repeated.push((await timed(() => ao.dryrun(same)))[0]);
    figure("dry-run over HTTP, one query repeated (CU result cache)", median(repeated), "ms", {
      baseline: { name: "distinct", value: median(dry) },
    });
  } finally {
    await net.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function deadlineRecovery(): Promise<void> {
  section("compute deadline: stopping a runaway evaluation and restoring the process");
  const DEADLINE = 300;
  const REPLAYED = 200;
  const dataDir = mkdtempSync(join(tmpdir(), "bench-deadline-"));
  const net = await startDevnet({ port: 0, dataDir, computeDeadlineMs: DEADLINE });
  try {
    const alice = testWallet("alice");
    const ao = aoClient(net, alice.jwk);
    const pid = await ao.spawnWithCode(
      net,
      `${HANDLER}\nHandlers.add("register", "Register", RegisterSkill)`,
    );
    // Messages since the last snapshot (one every 500): a restore replays them.
    for (let i = 0; i < REPLAYED; i++)
      await ao.send(pid, [
        { name: "Action", value: "Register" },
        { name: "Name", value: `r-${i}` },
        { name: "Version", value: "1.0.0" },
      ]);
    const probe = (i: number) =>
      ao.dryrun({
        process: pid,
        tags: [
          { name: "Action", value: "Register" },
          { name: "Name", value: `probe-${i}` },
          { name: "Version", value: "1" },
        ],
      });
    const stop: number[] = [];
    const restore: number[] = [];
    for (let i = 0; i < 5; i++) {
      const [loopMs, r] = await timed(() =>
        ao.dryrun({
          process: pid,
          Owner: alice.address, // a dry-run may claim any owner: the owner's Eval runs
          tags: [{ name: "Action", value: "Eval" }],
          data: "while true do end",
        }),
      );
      if (!String(r.Error).includes("compute deadline"))
        throw new Error(`the loop was not stopped: ${r.Error}`);
      stop.push(loopMs - DEADLINE);
      const [ms, d] = await timed(() => probe(i));
      if (d.Error) throw new Error(`the process did not recover: ${d.Error}`);
      restore.push(ms);
    }
    figure(`looping dry-run: answer after the ${DEADLINE} ms deadline (median of 5)`, median(stop), "ms");
    figure(
      `next answer: new worker + restore + replay of ${REPLAYED + 1} messages (median of 5)`,
      median(restore),
      "ms",
    );
  } finally {
    await net.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function restartAndMemory(): Promise<void> {
  section("restart and memory");
  const MESSAGES = Number(process.env.BENCH_RESTART_MESSAGES ?? 10_000);
  const dataDir = mkdtempSync(join(tmpdir(), "bench-restart-"));
  try {
    let net = await startDevnet({ port: 0, dataDir });
    const alice = testWallet("alice");
    let ao = aoClient(net, alice.jwk);
    const pid = await ao.spawnWithCode(
      net,
      `${HANDLER}\nHandlers.add("register", "Register", RegisterSkill)`,
    );
    const [fillMs] = await timed(async () => {
      const lanes = 8;
      await Promise.all(
        Array.from({ length: lanes }, async (_, lane) => {
          for (let i = lane; i < MESSAGES; i += lanes) {
            await ao.message({
              process: pid,
              signer: ao.signer,
              tags: [
                { name: "Action", value: "Register" },
                { name: "Name", value: `s-${i}` },
                { name: "Version", value: "1.0.0" },
              ],
            });
          }
        }),
      );
      await net.settle();
    });
    figure(`filling one process with ${MESSAGES} messages`, (MESSAGES * 1000) / fillMs, "msg/s");
    await net.stop();
    const ready = async () => {
      const t0 = performance.now();
      net = await startDevnet({ port: 0, dataDir });
      ao = aoClient(net, alice.jwk);
      const d = await ao.dryrun({
        process: pid,
        tags: [
          { name: "Action", value: "Register" },
          { name: "Name", value: "probe" },
          { name: "Version", value: "1" },
        ],
      });
      if (!String(d.Messages[0]?.Data).includes(`${MESSAGES + 1} skills`))
        throw new Error(`state after restart is wrong: ${JSON.stringify(d.Messages)}`);
      return performance.now() - t0;
    };
    figure(`restart to first answer, ${MESSAGES} messages (from snapshot)`, await ready(), "ms", {
      target: { max: 2000 },
    });
    await net.stop();

    // After a crash: the network as its own process, 500 more messages, kill -9, start again. The
    // restart replays what came after the last snapshot (one every 500 messages).
    const TAIL = 500;
    const first = await startDevnetProcess(dataDir);
    const aoChild = aoClient(first, alice.jwk);
    await Promise.all(
      Array.from({ length: 8 }, async (_, lane) => {
        for (let i = lane; i < TAIL; i += 8) {
          await aoChild.send(pid, [
            { name: "Action", value: "Register" },
            { name: "Name", value: `t-${i}` },
            { name: "Version", value: "1.0.0" },
          ]);
        }
      }),
    );
    first.child.kill("SIGKILL");
    await new Promise((r) => first.child.once("exit", r));
    const t0 = performance.now();
    const second = await startDevnetProcess(dataDir);
    const d = await aoClient(second, alice.jwk).dryrun({
      process: pid,
      tags: [
        { name: "Action", value: "Register" },
        { name: "Name", value: "probe-2" },
        { name: "Version", value: "1" },
      ],
    });
    const crashReady = performance.now() - t0;
    if (!String(d.Messages[0]?.Data).includes(`${MESSAGES + TAIL + 1} skills`))
      throw new Error(`state after the crash is wrong: ${JSON.stringify(d.Messages)}`);
    figure(
      `restart after kill -9 to first answer, ${MESSAGES + TAIL} messages (new Node process, replay)`,
      crashReady,
      "ms",
      { target: { max: 2000 } },
    );
    await second.stop();

    // Memory: many processes, all live or few live; each measured in a fresh Node process.
    const COUNT = 100;
    for (const maxLive of [COUNT, 8]) {
      const out = execFileSync(
        process.execPath,
        [
          ...memory64Flags(process.version),
          "--expose-gc",
          "--import",
          "tsx",
          join(__dirname, "memoryProbe.ts"),
          String(COUNT),
          String(maxLive),
        ],
        { encoding: "utf8" },
      );
      const m = JSON.parse(out.trim().split("\n").at(-1)!) as { before: number; after: number; live: number };
      figure(
        `resident memory per process, ${COUNT} processes, ${m.live} live (RSS ${(m.after / 2 ** 20).toFixed(0)} MiB)`,
        (m.after - m.before) / (COUNT - 1) / 2 ** 20,
        "MiB",
      );
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function run(): Promise<void> {
  await computePerMessage();
  await overHttp();
  await deadlineRecovery();
  await restartAndMemory();
}

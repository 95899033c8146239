/**
 * The registry process at 10,000 skills, measured in the compute unit (one live aos instance, as the
 * local network runs it): registration throughput, Get-Skill / Search-Skills / List-Skills latency as
 * dry-runs (the way the CLI reads), and the process's memory.
 *
 * Baseline: the runtime's own floor at the same state size, a dry-run `Eval` of `x = 1`. Measured here,
 * every aos message costs time proportional to the Lua heap even when the handler does nothing (the
 * floor grows from ~1 ms empty to ~15 ms at 10,000 skills, ~16 MiB of Lua heap, and
 * `collectgarbage("stop")` does not remove it), so the ratio to the floor is the registry's own share.
 */
import * as path from "node:path";
import { bundleLua } from "../providers/bundle";
import { startAosInstance } from "../test/support/aosInstance";
import { figure, median, section } from "./report";

const SKILLS = Number(process.env.BENCH_REGISTRY_SKILLS ?? 10_000);
const TAGS = ["pdf", "csv", "email", "browser", "code", "data", "office", "search", "image", "audio"];
const WORDS = ["fast", "tiny", "robust", "agent", "tool", "helper", "parser", "client", "bridge", "kit"];

export async function run(): Promise<void> {
  section(`registry process at ${SKILLS} skills (compute unit, one live aos instance)`);
  const { vm, env, msg, load, owner } = await startAosInstance("registry-bench");
  const publishers = Array.from({ length: 50 }, (_, i) => `pub${i}`.padEnd(43, "x"));
  const action = (name: string, data: unknown, from = owner) =>
    msg([{ name: "Action", value: name }], JSON.stringify(data), from);
  const replyOf = (res: { Messages: { Data?: string }[]; Error?: unknown }) => {
    if (res.Error) throw new Error(`registry raised: ${String(res.Error)}`);
    const body = JSON.parse(res.Messages[0]?.Data ?? "{}") as { ok: boolean; error?: unknown };
    if (!body.ok) throw new Error(`registry error: ${JSON.stringify(body.error)}`);
    return body;
  };

  await load(bundleLua(path.join(__dirname, "..", "ao-process", "registry.lua")).code);
  // A new registry is sealed until its deploy opens it (state-transfer protocol).
  replyOf(await vm.evaluate(action("State-Open", {}), env));

  const name = (i: number) => `${WORDS[i % 10]}-${TAGS[(i >> 3) % 10]}-${i.toString(36)}`;
  const register = (i: number) =>
    action(
      "Register-Skill",
      {
        name: name(i),
        description: `A ${WORDS[(i * 7) % 10]} ${TAGS[i % 10]} ${WORDS[(i * 3) % 10]} for agents, number ${i}`,
        tags: [TAGS[i % 10], TAGS[(i + 3) % 10]],
        version: "1.0.0",
        txId: `tx${i}`.padEnd(43, "_"),
        contentHash: i.toString(16).padStart(64, "0"),
      },
      publishers[i % publishers.length],
    );

  const reads = {
    "Get-Skill (latest)": () => action("Get-Skill", { name: name(42) }),
    "Search-Skills by tag (limit 20)": () => action("Search-Skills", { tag: "email" }),
    "Search-Skills by name prefix": () => action("Search-Skills", { name: "robust-" }),
    "Search-Skills by text, 2 words": () => action("Search-Skills", { query: "agents robust" }),
    "Search-Skills by text, no match (full scan)": () => action("Search-Skills", { query: "zebra" }),
    "List-Skills, page in the middle": () => action("List-Skills", { cursor: "kit", limit: 20 }),
  };
  const floor = () => msg([{ name: "Action", value: "Eval" }], "x = 1");
  const measureReads = async (n: number) => {
    const out: Record<string, number> = {};
    const floorTimes: number[] = [];
    for (let i = 0; i < n; i++) {
      const m = floor();
      const t = performance.now();
      await vm.dryRun(m, env);
      floorTimes.push(performance.now() - t);
    }
    out.floor = median(floorTimes);
    for (const [label, make] of Object.entries(reads)) {
      const times: number[] = [];
      for (let i = 0; i < n; i++) {
        const m = make();
        const t0 = performance.now();
        replyOf(await vm.dryRun(m, env));
        times.push(performance.now() - t0);
      }
      out[label] = median(times);
    }
    return out;
  };

  // Small registry first: the baseline for how reads scale.
  const SMALL = Math.min(100, SKILLS);
  for (let i = 0; i < SMALL; i++) replyOf(await vm.evaluate(register(i), env));
  const small = await measureReads(15);

  const t0 = performance.now();
  for (let i = SMALL; i < SKILLS; i++) replyOf(await vm.evaluate(register(i), env));
  const fillMs = performance.now() - t0;
  const fillRate = ((SKILLS - SMALL) * 1000) / fillMs;
  figure(`Register-Skill (with a first version), ${SMALL}..${SKILLS} skills`, fillRate, "msg/s");

  const lastBatch: number[] = [];
  for (let i = 0; i < 200; i++) {
    const m = register(SKILLS + i);
    const t = performance.now();
    replyOf(await vm.evaluate(m, env));
    lastBatch.push(performance.now() - t);
  }
  figure(`Register-Skill at ${SKILLS} skills (median of 200)`, median(lastBatch), "ms");

  const big = await measureReads(25);
  figure(`runtime floor: dry-run Eval "x = 1" at ${SKILLS} skills`, big.floor!, "ms", {
    baseline: { name: `at ${SMALL} skills`, value: small.floor! },
  });
  for (const label of Object.keys(reads)) {
    figure(`dry-run ${label} (median)`, big[label]!, "ms", {
      baseline: { name: "runtime floor", value: big.floor! },
    });
  }
  for (const label of Object.keys(reads)) {
    figure(`  at ${SMALL} skills: ${label}`, small[label]!, "ms", {
      baseline: { name: "floor", value: small.floor! },
    });
  }

  // `return <number>` makes aos put the plain number in Output.data.
  const mem = await vm.dryRun(
    msg([{ name: "Action", value: "Eval" }], 'return collectgarbage("count")'),
    env,
  );
  const luaKiB = Number((mem.Output as { data?: string } | undefined)?.data);
  if (Number.isFinite(luaKiB)) figure(`Lua heap at ${SKILLS + 200} skills`, luaKiB / 1024, "MiB");
  figure(`WASM memory of the process at ${SKILLS + 200} skills`, vm.memoryBytes() / 2 ** 20, "MiB");
}

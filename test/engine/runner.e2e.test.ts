/**
 * The engine's call sequence where it is subtle (pulumi/pulumi step_generator.go), with a real program
 * process and Pulumi's real dynamic-provider host, on a small two-resource program
 * (fixtures/program): an update's init error keeps its properties and the next run resumes it; a
 * replacement whose create fails leaves the replaced resource pending-delete, deleted first by the next
 * run; a resource that depends on a replaced one follows it.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { up } from "../../scripts/lib/engine/runner";
import { readState, type StackState } from "../../scripts/lib/engine/state";

const REPO = join(__dirname, "..", "..");
let stateDir: string;
const state = (): StackState => readState(join(stateDir, "test.json"), "engineTest", "test");
const live = (name: string) => state().resources.filter((r) => r.name === name && !r.delete);

async function run(config: Record<string, string>) {
  const lines: string[] = [];
  const result = await up({
    repoRoot: REPO,
    programDir: join(__dirname, "fixtures", "program"),
    project: "engineTest",
    stack: "test",
    config: Object.fromEntries(Object.entries(config).map(([k, v]) => [`engineTest:${k}`, v])),
    programEnv: {},
    hostEnv: { ...process.env },
    stateDir,
    preview: false,
    verbose: false,
    log: (l) => lines.push(l),
  }).catch((e: Error) => e);
  return { result, text: lines.join("\n") };
}

beforeAll(async () => {
  stateDir = join(mkdtempSync(join(tmpdir(), "engine-runner-")), "state");
  const first = await run({});
  expect(first.result).not.toBeInstanceOf(Error);
}, 180_000);

describe("the engine's call sequence", () => {
  it("an update's init error keeps the provider's properties; the next run resumes it through update", async () => {
    const failed = await run({ aValue: "v2", aFail: "update" });
    expect(failed.result).toBeInstanceOf(Error);
    const [a] = live("a");
    expect(a!.initErrors).toEqual(["update: init failed"]);
    expect(a!.outputs).toMatchObject({ value: "v2", partial: "update" });

    const resumed = await run({ aValue: "v2" });
    expect(resumed.result).not.toBeInstanceOf(Error);
    expect(resumed.text).toMatch(
      /^ {2}~ +pulumi-nodejs:dynamic:Resource +a +update +\[diff: ~fail\] \(resume after an init error\)$/m,
    );
    expect(live("a")[0]).toMatchObject({ id: a!.id, outputs: { ready: true, value: "v2" } });
    expect(live("a")[0]!.initErrors).toBeUndefined();
  }, 240_000);

  it("a replacement whose create fails leaves the old resource pending-delete; the next run deletes it first", async () => {
    const before = live("a")[0]!;
    const failed = await run({ aValue: "v2", aKey: "k2", aFail: "create" });
    expect(failed.result).toBeInstanceOf(Error);
    expect(failed.text).toMatch(
      /^ {2}\+- +pulumi-nodejs:dynamic:Resource +a +replace +\[diff: .*~key.*\] forces replacement: key$/m,
    );
    const pending = state().resources.filter((r) => r.name === "a" && r.delete);
    expect(pending.map((r) => r.id)).toEqual([before.id]);
    const [created] = live("a");
    expect(created!.id).toMatch(/^k2-/);
    expect(created!.initErrors).toEqual(["create: init failed"]);

    const next = await run({ aValue: "v2", aKey: "k2" });
    expect(next.result).not.toBeInstanceOf(Error);
    const order = next.text.split("\n").filter((l) => /^ {2}\S+ +pulumi-nodejs:dynamic:Resource /.test(l));
    expect(order[0]).toMatch(
      /^ {2}- +pulumi-nodejs:dynamic:Resource +a +delete original +\(pending delete from an earlier run\)$/,
    );
    expect(state().resources.filter((r) => r.delete)).toEqual([]);
    expect(live("a")[0]).toMatchObject({ id: created!.id, outputs: { ready: true } });
    // b depends on a: its value follows the replacement.
    expect(live("b")[0]!.outputs.value).toBe(created!.id);
    expect((next.result as { outputs: Record<string, unknown> }).outputs.aId).toBe(created!.id);
  }, 240_000);
});

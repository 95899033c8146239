import { describe, expect, it } from "vitest";
import { type DiffLike, plan, type Registration, stepFor } from "../../scripts/lib/engine/plan";
import { emptyState, type ResourceState, type StackState } from "../../scripts/lib/engine/state";

const T = "pulumi-nodejs:dynamic/ao:AoProcess";
const urn = (name: string, type = T) => `urn:pulumi:dev::aoRegistry::${type}::${name}`;
const resource = (name: string, extra: Partial<ResourceState> = {}): ResourceState => ({
  urn: urn(name, extra.type ?? T),
  type: T,
  name,
  custom: true,
  id: `${name}-id`,
  inputs: { code: "old", module: "m" },
  outputs: { processId: `${name}-id`, deployedAt: "t" },
  ...extra,
});
const state = (...resources: ResourceState[]): StackState => ({
  ...emptyState("aoRegistry", "dev"),
  resources,
});
const diff = (d: Partial<DiffLike>): DiffLike => ({
  changes: "none",
  replaces: [],
  diffs: [],
  deleteBeforeReplace: false,
  ...d,
});
const reg = (
  name: string,
  d?: Partial<DiffLike>,
  inputs?: Record<string, unknown>,
): Registration & { inputs?: Record<string, unknown> } => ({
  urn: urn(name),
  type: T,
  name,
  ...(d ? { diff: diff(d) } : {}),
  ...(inputs ? { inputs } : {}),
});

describe("the step for one resource (the engine's step generator)", () => {
  it("creates what the state does not hold", () => {
    expect(stepFor(undefined, reg("a")).op).toBe("create");
  });

  it("does nothing when Diff reports no change", () => {
    expect(stepFor(resource("a"), reg("a", { changes: "none" })).op).toBe("same");
  });

  it("updates in place when Diff reports changes without replacements, naming the changed inputs", () => {
    const s = stepFor(resource("a"), reg("a", { changes: "some" }), {
      code: "old",
      module: "m",
      endpoints: {},
    });
    expect(s).toMatchObject({ op: "update", diffs: ["endpoints"] });
  });

  it("replaces when Diff names properties that force it, and says which", () => {
    const s = stepFor(resource("a"), reg("a", { changes: "some", replaces: ["code"] }), {
      code: "new",
      module: "m",
    });
    expect(s).toMatchObject({ op: "replace", replaces: ["code"], diffs: ["code"] });
  });

  it("resumes a resource with init errors through update even when Diff sees no change", () => {
    const s = stepFor(resource("a", { initErrors: ["Eval failed"] }), reg("a", { changes: "none" }));
    expect(s).toMatchObject({ op: "update", note: "resume after an init error" });
  });

  it("replaces a resource with init errors when Diff says so (the engine does not override a replacement)", () => {
    const s = stepFor(
      resource("a", { initErrors: ["x"] }),
      reg("a", { changes: "some", replaces: ["module"] }),
    );
    expect(s.op).toBe("replace");
  });

  it("compares inputs when Diff cannot tell (changes: unknown), as for legacy providers", () => {
    const old = resource("a");
    expect(stepFor(old, reg("a", { changes: "unknown" }), { ...old.inputs }).op).toBe("same");
    expect(stepFor(old, reg("a", { changes: "unknown" }), { ...old.inputs, module: "n" })).toMatchObject({
      op: "update",
      diffs: ["module"],
    });
  });

  it("ignores __provider when comparing inputs (the serialized shim changes with an SDK upgrade or an edit of the shim)", () => {
    const old = resource("a", { inputs: { module: "m", __provider: "v1" } });
    expect(stepFor(old, reg("a", { changes: "unknown" }), { module: "m", __provider: "v2" }).op).toBe("same");
  });
});

describe("the whole plan", () => {
  it("deletes pending deletes of an earlier run first, then steps in registration order", () => {
    const s = state(resource("a", { delete: true, id: "old" }), resource("a"));
    const steps = plan(s, [reg("a", { changes: "none" })]);
    expect(steps.map((x) => [x.op, x.name])).toEqual([
      ["delete-replaced", "a"],
      ["same", "a"],
    ]);
  });

  it("deletes replaced resources last (create before delete), after every other step", () => {
    const s = state(resource("a"), resource("b"));
    const steps = plan(s, [reg("a", { changes: "some", replaces: ["code"] }), reg("b", { changes: "some" })]);
    expect(steps.map((x) => x.op)).toEqual(["replace", "update", "delete-replaced"]);
  });

  it("a deleteBeforeReplace replacement has no delete at the end (it deletes first)", () => {
    const steps = plan(state(resource("a")), [
      reg("a", { changes: "some", replaces: ["x"], deleteBeforeReplace: true }),
    ]);
    expect(steps.map((x) => x.op)).toEqual(["replace"]);
  });

  it("deletes resources the program no longer declares, dependents (registered later) first", () => {
    const s = state(resource("base"), resource("mid"), resource("top"), resource("kept"));
    const steps = plan(s, [reg("kept", { changes: "none" })]);
    expect(steps.map((x) => [x.op, x.name])).toEqual([
      ["same", "kept"],
      ["delete", "top"],
      ["delete", "mid"],
      ["delete", "base"],
    ]);
  });

  it("plans several dependent resources: a created one and those that follow it", () => {
    const steps = plan(state(), [reg("process"), reg("secret")]);
    expect(steps.map((x) => x.op)).toEqual(["create", "create"]);
  });
});

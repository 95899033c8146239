import { describe, expect, it } from "vitest";
import { diff } from "../../providers/diff";
import { DEFAULT_VALIDATION, type Inputs, type Outputs } from "../../providers/types";
import { ID, sampleInputs } from "./support/inputs";

const inputs: Inputs = { ...sampleInputs(), codeSha256: "a".repeat(64) };
const olds: Outputs = {
  ...inputs,
  processId: ID("p"),
  evalMessageId: ID("e"),
  owner: ID("o"),
  deployedAt: "2026-01-01T00:00:00.000Z",
  deploymentId: "dep-1",
};
const changed = (patch: Partial<Inputs>) => diff(olds, { ...inputs, ...patch });

describe("diff", () => {
  it("reports no change for the same inputs, ignoring __provider and outputs", () => {
    expect(
      diff({ ...olds, __provider: "old" } as Outputs, { ...inputs, __provider: "new" } as Inputs),
    ).toEqual({
      changes: false,
    });
  });

  it.each([
    ["code", { code: "return 2", codeSha256: "b".repeat(64) }],
    ["module", { module: ID("M") }],
    ["scheduler", { scheduler: ID("S") }],
    ["authority", { authority: ID("A") }],
    ["name", { name: "other" }],
    ["tags", { tags: [{ name: "App-Name", value: "other" }] }],
    ["adoptProcessId", { adoptProcessId: ID("q") }],
  ] as [string, Partial<Inputs>][])("replaces the process when %s changes, naming it", (prop, patch) => {
    expect(changed(patch)).toEqual({ changes: true, replaces: [prop], deleteBeforeReplace: false });
  });

  it("replaces the process when the network changes (a process lives on one), naming endpoints.network", () => {
    const mainnet = { network: "mainnet" as const, node: "http://127.0.0.1:9" };
    // The authority belongs to the network: its change is said by endpoints.network alone.
    expect(changed({ endpoints: mainnet, authority: ID("a") })).toEqual({
      changes: true,
      replaces: ["endpoints.network"],
      deleteBeforeReplace: false,
    });
    // State written before mainnet existed has no `network`: legacy, the same network as `legacy`.
    expect(
      changed({ endpoints: { network: "legacy", ...(inputs.endpoints as object) } as Inputs["endpoints"] }),
    ).toMatchObject({
      replaces: [],
    });
    // A node's new URL on the same network is an update in place.
    const onMainnet = { ...olds, endpoints: mainnet };
    expect(
      diff(onMainnet, { ...inputs, endpoints: { ...mainnet, node: "http://127.0.0.1:10" } }),
    ).toMatchObject({
      changes: true,
      replaces: [],
    });
  });

  it("updates in place when only the code changes under eval", () => {
    const d = changed({ code: "return 2", codeSha256: "b".repeat(64), upgrade: "eval" });
    expect(d.changes).toBe(true);
    expect(d.replaces).toEqual([]);
    expect(d.stables).toContain("processId");
  });

  it.each([
    ["endpoints", { endpoints: { ...inputs.endpoints, cu: "http://cu2" } }],
    ["validation", { validation: { ...DEFAULT_VALIDATION, action: "Status" } }],
    ["upgrade", { upgrade: "eval" }],
  ] as [string, Partial<Inputs>][])("updates in place, without replacement, when %s changes", (_p, patch) => {
    expect(changed(patch)).toMatchObject({ changes: true, replaces: [], deleteBeforeReplace: false });
  });

  it("on AO mainnet an unpinned authority is recorded, not a trigger; a pin other than the recorded one replaces", () => {
    const mainnet = { network: "mainnet" as const, node: "http://127.0.0.1:9" };
    const onMainnet = { ...olds, endpoints: mainnet, authority: ID("n") };
    const unpinned = { ...inputs, endpoints: mainnet, authority: undefined };
    expect(diff(onMainnet, unpinned).changes).toBe(false);
    expect(diff(onMainnet, { ...unpinned, authority: ID("n") }).changes).toBe(false);
    expect(diff(onMainnet, { ...unpinned, authority: ID("m") })).toMatchObject({ replaces: ["authority"] });
  });

  it("treats a missing and an empty authority, and missing and empty tags, as the same", () => {
    expect(diff({ ...olds, authority: "" }, inputs).changes).toBe(false);
    expect(diff({ ...olds, tags: undefined } as unknown as Outputs, { ...inputs, tags: [] }).changes).toBe(
      false,
    );
    expect(
      diff(
        { ...olds, tags: undefined } as unknown as Outputs,
        { ...inputs, tags: undefined } as unknown as Inputs,
      ),
    ).toEqual({ changes: false });
  });

  it("keeps an adopted process: the same adoptProcessId is no change, and a code change evals into it", () => {
    const adopted = { ...olds, adoptProcessId: olds.processId };
    const same = { ...inputs, adoptProcessId: olds.processId };
    expect(diff(adopted, same).changes).toBe(false);
    expect(diff(adopted, { ...same, codeSha256: "c".repeat(64) })).toMatchObject({ replaces: [] });
  });

  it("keeps the process when adoptProcessId is removed after an adoption", () => {
    expect(diff({ ...olds, adoptProcessId: olds.processId }, inputs).changes).toBe(false);
  });

  it("reads release 0.1.0's adoption state (output adoptedProcessId) as the same adoption", () => {
    const legacy = { ...olds, adoptedProcessId: olds.processId } as Partial<Outputs>;
    expect(diff(legacy, { ...inputs, adoptProcessId: olds.processId }).changes).toBe(false);
    expect(diff(legacy, inputs).changes).toBe(false);
    expect(diff(legacy, { ...inputs, adoptProcessId: ID("q") }).replaces).toEqual(["adoptProcessId"]);
  });

  it("resumes a create that failed after the spawn: a code change updates that process, under either strategy", () => {
    const { deployedAt: _, evalMessageId: _e, ...partial } = olds;
    const fixed = { code: "return 2", codeSha256: "b".repeat(64) };
    for (const upgrade of ["replace", "eval"] as const) {
      expect(diff(partial as Outputs, { ...inputs, ...fixed, upgrade })).toMatchObject({
        changes: true,
        replaces: [],
      });
    }
    // Identity still decides: another module is another process, even when resuming.
    expect(diff(partial as Outputs, { ...inputs, ...fixed, module: ID("M") }).replaces).toEqual(["module"]);
  });

  it("names every property that forces replacement", () => {
    expect(changed({ module: ID("M"), codeSha256: "b".repeat(64), name: "n" }).replaces).toEqual([
      "code",
      "module",
      "name",
    ]);
  });
});

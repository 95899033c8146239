import { describe, expect, it } from "vitest";
import type { Step } from "../../scripts/lib/engine/plan";
import { formatOutputs, formatPlan, formatSummary } from "../../scripts/lib/engine/printer";

const step = (op: Step["op"], name: string, extra: Partial<Step> = {}): Step => ({
  op,
  name,
  urn: `urn:pulumi:dev::p::t::${name}`,
  type: "pulumi-nodejs:dynamic/ao:AoProcess",
  ...extra,
});

describe("the plan in Pulumi's notation", () => {
  it("marks create +, update ~, replace +- with the properties that force it, delete -", () => {
    const text = formatPlan(
      [
        step("create", "a"),
        step("update", "b", { diffs: ["endpoints"] }),
        step("replace", "c", { diffs: ["code", "codeSha256"], replaces: ["code"] }),
        step("delete", "d"),
        step("same", "e"),
      ],
      "Plan:",
    );
    const lines = text.split("\n");
    expect(lines.find((l) => l.includes(" a "))).toMatch(/^ {2}\+ +ao:AoProcess +a +create$/);
    expect(lines.find((l) => l.includes(" b "))).toMatch(
      /^ {2}~ +ao:AoProcess +b +update +\[diff: ~endpoints\]$/,
    );
    expect(lines.find((l) => l.includes(" c "))).toMatch(
      /^ {2}\+- +ao:AoProcess +c +replace +\[diff: ~code ~codeSha256\] forces replacement: code$/,
    );
    expect(lines.find((l) => l.includes(" d "))).toMatch(/^ {2}- +ao:AoProcess +d +delete$/);
    expect(text).not.toMatch(/ e /);
    expect(text).toContain(
      "Resources: + 1 to create, ~ 1 to update, +- 1 to replace, - 1 to delete, 1 unchanged",
    );
  });

  it("says so when nothing changes", () => {
    expect(formatPlan([step("same", "a")], "Plan:")).toBe("Plan:\n    no changes\n\nResources: 1 unchanged");
  });

  it("summarizes a finished run in the past tense", () => {
    expect(formatSummary([step("create", "a"), step("delete-replaced", "b")], true)).toBe(
      "Resources: + 1 created, - 1 deleted original",
    );
  });

  it("prints outputs sorted, as JSON values", () => {
    expect(formatOutputs({ b: "x", a: { k: 1 } })).toBe('Outputs:\n    a: {"k":1}\n    b: "x"');
  });
});

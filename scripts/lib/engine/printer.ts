/**
 * What the engine prints, in Pulumi's notation, as pure functions of the plan and the outputs:
 * `+` create, `~` update, `+-` replace (with the properties that force it), `-` delete, and a summary
 * line per operation (`+ 1 to create`, `2 unchanged`), as `pulumi preview` shows them.
 */
import { countSteps, type Step, type StepOp } from "./plan";

export const SYMBOL: Record<StepOp, string> = {
  same: " ",
  create: "+",
  update: "~",
  replace: "+-",
  delete: "-",
  "delete-replaced": "-",
};

const VERB: Record<StepOp, [present: string, past: string, summary: string]> = {
  same: ["", "", "unchanged"],
  create: ["create", "created", "to create"],
  update: ["update", "updated", "to update"],
  replace: ["replace", "replaced", "to replace"],
  delete: ["delete", "deleted", "to delete"],
  "delete-replaced": ["delete original", "deleted original", "to delete (replaced)"],
};

/** A resource type as a reader knows it: dynamic resources without the `pulumi-nodejs:dynamic/` prefix. */
export const displayType = (type: string) => type.replace(/^pulumi-nodejs:dynamic\//, "");

function detail(s: Step): string {
  const parts: string[] = [];
  if (s.diffs?.length) parts.push(`[diff: ${s.diffs.map((d) => `~${d}`).join(" ")}]`);
  if (s.replaces?.length) parts.push(`forces replacement: ${s.replaces.join(", ")}`);
  if (s.note) parts.push(`(${s.note})`);
  return parts.join(" ");
}

/** The plan as `pulumi preview` lists it: one line per step that changes something, then the summary. */
export function formatPlan(steps: Step[], header: string): string {
  const rows = steps
    .filter((s) => s.op !== "same")
    .map((s) => [SYMBOL[s.op], displayType(s.type), s.name, VERB[s.op][0], detail(s)] as const);
  const widths = [2, 4, 4, 4].map((min, i) => Math.max(min, ...rows.map((r) => r[i]!.length)));
  const lines = [header];
  if (rows.length === 0) lines.push("    no changes");
  for (const r of rows) {
    lines.push(
      `  ${r
        .slice(0, 4)
        .map((c, i) => c.padEnd(widths[i]!))
        .join("  ")}  ${r[4]}`.trimEnd(),
    );
  }
  lines.push("", formatSummary(steps));
  return lines.join("\n");
}

/** `Resources: + 1 to create, 2 unchanged`. */
export function formatSummary(steps: Step[], done = false): string {
  const counts = countSteps(steps);
  const order: StepOp[] = ["create", "update", "replace", "delete-replaced", "delete", "same"];
  const parts = order
    .filter((op) => counts[op])
    .map((op) => {
      const [, past, summary] = VERB[op];
      const words = op === "same" ? summary : done ? past : summary;
      return `${op === "same" ? "" : `${SYMBOL[op]} `}${counts[op]} ${words}`;
    });
  return `Resources: ${parts.length ? parts.join(", ") : "none"}`;
}

/** One line as a step finishes: `+- ao:AoProcess registry replaced (2.1 s)`. */
export function formatStepDone(s: Step, seconds: number, extra = ""): string {
  return `  ${SYMBOL[s.op]} ${displayType(s.type)} ${s.name} ${VERB[s.op][1]} (${seconds.toFixed(1)} s)${extra ? ` ${extra}` : ""}`;
}

/** The stack outputs as `pulumi up` ends: `Outputs:` then `    key: value` (JSON values). */
export function formatOutputs(outputs: Record<string, unknown>): string {
  const keys = Object.keys(outputs).sort();
  if (keys.length === 0) return "Outputs: none";
  const width = Math.max(...keys.map((k) => k.length));
  return ["Outputs:", ...keys.map((k) => `    ${k.padEnd(width)}: ${JSON.stringify(outputs[k])}`)].join("\n");
}

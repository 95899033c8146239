/**
 * The preflight's decisions (scripts/preflight.ts), pure: from what was looked up (the stack's settings,
 * its recorded outputs, the node's address, the scheduler's location record, the module) to one row per
 * fact and a verdict. A row fails when what it found stops a deploy; the verdict is "go" only when none does.
 */
import { checkAuthority } from "../../providers/authority";

export type Status = "ok" | "FAIL" | "info";

export interface Row {
  check: string;
  value: string;
  /** Where it was looked up: a node route, a gateway URL, the stack's config or outputs. */
  source: string;
  status: Status;
}

/** A lookup's answer: the value found, or why there is none (`missing`: asked, and it is not there). */
export type Lookup<T> = { found: T } | { missing: string } | { failed: string };

export interface PreflightFacts {
  stack: string;
  network: "mainnet" | "legacy";
  /** Where spawns and pushes go (mainnet), or the messenger (legacy). */
  node: string;
  computeNode?: string;
  module: string;
  scheduler: string;
  /** aoRegistry:authority, when the stack pins it. */
  pinned?: string;
  /** What the stack's outputs record: the process and its authority (undefined: none recorded yet). */
  recorded: Lookup<{ processId?: string; authority?: string; network?: string }>;
  /** Where the outputs came from, for the table. */
  outputsSource: string;
  /** GET <node>/~meta@1.0/info/address (mainnet only). */
  nodeAddress?: Lookup<string>;
  /** GET <computeNode>/~meta@1.0/info/address, when a compute node is named. */
  computeNodeAddress?: Lookup<string>;
  /** The gateway's GraphQL the scheduler and the module are looked up through; undefined: none set. */
  gateway?: string;
  schedulerLocation?: Lookup<string>;
  moduleRecord?: Lookup<Record<string, string>>;
}

const short = (s: string, n = 120) => (s.length > n ? `${s.slice(0, n - 3)}...` : s);

const failedRow = (check: string, lookup: { missing: string } | { failed: string }, source: string): Row => ({
  check,
  value: "missing" in lookup ? lookup.missing : `could not look it up: ${lookup.failed}`,
  source,
  status: "FAIL",
});

/** The rows and the verdict. */
export function preflightRows(f: PreflightFacts): { rows: Row[]; go: boolean; reasons: string[] } {
  const rows: Row[] = [];
  const reasons: string[] = [];
  const fail = (row: Row, reason = `${row.check}: ${row.value}`) => {
    rows.push(row);
    reasons.push(reason);
  };
  const config = `Pulumi.${f.stack}.yaml`;
  rows.push({ check: "network", value: f.network, source: config, status: "info" });
  rows.push({
    check: f.network === "mainnet" ? "node (spawns, pushes)" : "messenger",
    value: f.node,
    source: config,
    status: "info",
  });
  if (f.computeNode)
    rows.push({ check: "compute node", value: f.computeNode, source: config, status: "info" });

  // What the stack recorded.
  let recorded: { processId: string; authority: string } | undefined;
  if ("found" in f.recorded) {
    const o = f.recorded.found;
    rows.push({
      check: "recorded process",
      value: o.processId
        ? `${o.processId} (${o.network ?? "legacy"})`
        : "none yet: this is the stack's first deploy",
      source: f.outputsSource,
      status: "info",
    });
    if (o.processId && o.authority && o.network === "mainnet")
      recorded = { processId: o.processId, authority: o.authority };
  } else fail(failedRow("recorded outputs", f.recorded, f.outputsSource));

  // The node's address against the pinned or recorded authority (providers/authority.ts decides).
  if (f.network === "mainnet" && f.nodeAddress) {
    const route = `GET ${f.node}/~meta@1.0/info/address`;
    if ("found" in f.nodeAddress) {
      const reported = f.nodeAddress.found;
      rows.push({ check: "node's address", value: reported, source: route, status: "ok" });
      const expected = f.pinned ?? recorded?.authority;
      const what = f.pinned ? `pinned authority (${config})` : recorded ? "recorded authority" : "authority";
      try {
        checkAuthority(
          { node: f.node, ...(f.pinned ? { pinned: f.pinned } : {}), ...(recorded ? { recorded } : {}) },
          reported,
        );
        rows.push({
          check: what,
          value: expected
            ? `${expected}: the node's address`
            : `none yet: the first deploy spawns with the node's address ${reported} and records it`,
          source: f.pinned ? config : recorded ? f.outputsSource : route,
          status: "ok",
        });
        if (f.pinned && recorded && f.pinned !== recorded.authority)
          rows.push({
            check: "replacement",
            value: `the pin differs from the recorded ${recorded.authority}: the deploy replaces ${recorded.processId}`,
            source: config,
            status: "info",
          });
      } catch (err) {
        fail(
          {
            check: what,
            value: short(expected ?? "", 60),
            source: f.pinned ? config : f.outputsSource,
            status: "FAIL",
          },
          (err as Error).message,
        );
      }
    } else fail(failedRow("node's address", f.nodeAddress, route));
  }
  if (f.computeNode && f.computeNodeAddress) {
    const route = `GET ${f.computeNode}/~meta@1.0/info/address`;
    if ("found" in f.computeNodeAddress)
      rows.push({
        check: "compute node's address",
        value: f.computeNodeAddress.found,
        source: route,
        status: "ok",
      });
    else fail(failedRow("compute node's address", f.computeNodeAddress, route));
  }

  // The scheduler and the module, through the gateway's GraphQL.
  const noGateway = (check: string, value: string) =>
    fail({
      check,
      value: `${value}: not checked, no gateway to look it up through`,
      source: `pulumi config set aoRegistry:gatewayUrl https://arweave.net --stack ${f.stack}`,
      status: "FAIL",
    });
  if (!f.gateway) {
    noGateway("scheduler", f.scheduler);
    noGateway("module", f.module);
  } else {
    const graphql = `${f.gateway}/graphql`;
    const where = (what: string) => `${what} via POST ${graphql}`;
    if (f.schedulerLocation && "found" in f.schedulerLocation)
      rows.push({
        check: "scheduler",
        value: `${f.scheduler} at ${f.schedulerLocation.found}`,
        source: where("its Scheduler-Location record"),
        status: "ok",
      });
    else if (f.schedulerLocation)
      fail(
        failedRow("scheduler", f.schedulerLocation, where("its Scheduler-Location record")),
        `scheduler ${f.scheduler}: ${"missing" in f.schedulerLocation ? f.schedulerLocation.missing : f.schedulerLocation.failed}`,
      );
    if (f.moduleRecord && "found" in f.moduleRecord) {
      const tags = f.moduleRecord.found;
      const about = ["Module-Format", "Memory-Limit", "Name"]
        .filter((k) => tags[k])
        .map((k) => `${k} ${tags[k]}`);
      rows.push({
        check: "module",
        value: `${f.module}${about.length ? ` (${about.join(", ")})` : ""}`,
        source: where("its transaction"),
        status: "ok",
      });
    } else if (f.moduleRecord)
      fail(
        failedRow("module", f.moduleRecord, where("its transaction")),
        `module ${f.module}: ${"missing" in f.moduleRecord ? f.moduleRecord.missing : f.moduleRecord.failed}`,
      );
  }
  return { rows, go: reasons.length === 0, reasons };
}

/** The table, columns padded, and the verdict line(s). */
export function formatPreflight(stack: string, r: ReturnType<typeof preflightRows>): string {
  const head: Row = { check: "check", value: "value", source: "looked up at", status: "info" };
  const all = [head, ...r.rows];
  const width = (k: "check" | "value") => Math.max(...all.map((x) => x[k].length));
  const line = (x: Row, status: string) =>
    `${status.padEnd(6)}${x.check.padEnd(width("check") + 2)}${x.value.padEnd(width("value") + 2)}${x.source}`;
  const out = [line(head, ""), ...r.rows.map((x) => line(x, x.status === "info" ? "" : x.status))];
  out.push(
    r.go
      ? `verdict: go: stack ${stack} can deploy (nothing above stops it)`
      : `verdict: STOP: stack ${stack} would not deploy:\n${r.reasons.map((x) => `  - ${x}`).join("\n")}`,
  );
  return `${out.join("\n")}\n`;
}

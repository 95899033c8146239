import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseYaml, REPO } from "../infra/support/yaml";

type Step = {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
  if?: string;
  id?: string;
};
type Job = {
  uses?: string;
  concurrency?: { group: string; "cancel-in-progress": boolean };
  needs?: string | string[];
  steps?: Step[];
  permissions?: Record<string, string>;
  environment?: string;
  if?: string;
  strategy?: { "fail-fast"?: boolean; matrix?: { include?: { node?: number | string }[]; stack?: string[] } };
};
type Workflow = {
  name: string;
  on: Record<string, unknown>;
  jobs: Record<string, Job>;
  permissions?: Record<string, string>;
};

const DIR = join(REPO, ".github", "workflows");
const files = readdirSync(DIR).filter((f) => f.endsWith(".yml") || f.endsWith(".yaml"));
const text = (f: string) => readFileSync(join(DIR, f), "utf8");
const load = (f: string) => parseYaml<Workflow>(text(f), f);
const wf = Object.fromEntries(files.map((f) => [f, load(f)])) as Record<string, Workflow>;

const needsOf = (j: Job) => (j.needs === undefined ? [] : Array.isArray(j.needs) ? j.needs : [j.needs]);
const pulumiSteps = (j: Job) => (j.steps ?? []).filter((s) => s.uses?.startsWith("pulumi/actions@"));
/** A GitHub Actions expression, as written in a workflow. */
const gh = (expression: string) => `\${{ ${expression} }}`;
const secretsIn = (s: string) => [...s.matchAll(/secrets\.([A-Z_]+)/g)].map((m) => m[1]).sort();

describe("every workflow", () => {
  it("is one of the expected set", () => {
    expect(files.sort()).toEqual(
      ["deploy.yml", "drift.yml", "preview-comment.yml", "preview.yml", "rollback.yml", "test.yml"].sort(),
    );
  });

  it.each(files)("%s never uses pull_request_target", (f) => {
    expect(Object.keys(wf[f]!.on)).not.toContain("pull_request_target");
    expect(text(f)).not.toContain("pull_request_target:");
  });

  it.each(files)(
    "%s: every job that runs the repository's code sets up Node 22 and runs npm ci first",
    (f) => {
      for (const [name, job] of Object.entries(wf[f]!.jobs)) {
        const steps = job.steps ?? [];
        if (!steps.some((s) => s.uses?.startsWith("actions/checkout@"))) continue;
        const node = steps.findIndex((s) => s.uses?.startsWith("actions/setup-node@"));
        const ci = steps.findIndex((s) => s.run?.trim() === "npm ci");
        expect(node, `${f} ${name}: setup-node`).toBeGreaterThanOrEqual(0);
        const version = String(steps[node]!.with?.["node-version"]);
        const versions =
          version === gh("matrix.node")
            ? (job.strategy?.matrix?.include ?? []).map((m) => String(m.node))
            : [version];
        expect(versions, `${f} ${name}: node 22`).toContain("22");
        expect(ci, `${f} ${name}: npm ci`).toBeGreaterThan(node);
        const firstUse = steps.findIndex(
          (s) => /\bnpm run\b|\bnpm test\b/.test(s.run ?? "") || s.uses?.startsWith("pulumi/actions@"),
        );
        if (firstUse >= 0) expect(firstUse, `${f} ${name}: npm ci before the code runs`).toBeGreaterThan(ci);
      }
    },
  );

  it.each(files)("%s pins every action to a version", (f) => {
    const actions = Object.values(wf[f]!.jobs).flatMap((j) => (j.steps ?? []).flatMap((s) => s.uses ?? []));
    expect(actions.length, `${f} uses actions`).toBeGreaterThan(0);
    for (const uses of actions) expect(uses).toMatch(/@v\d+|@[0-9a-f]{40}$/);
  });

  it.each(files)("%s: every job's token is scoped (by the job or the workflow)", (f) => {
    for (const [name, job] of Object.entries(wf[f]!.jobs)) {
      expect(job.permissions ?? wf[f]!.permissions, `${f} ${name}`).toBeDefined();
    }
  });

  it.each(files)("%s never interpolates inputs or event text into a shell script", (f) => {
    for (const job of Object.values(wf[f]!.jobs)) {
      for (const s of job.steps ?? []) {
        if (s.run)
          expect(s.run, `${f}: ${s.name ?? s.run}`).not.toMatch(
            /\$\{\{\s*(inputs|github\.event|needs|steps)\./,
          );
      }
    }
  });

  it.each(files)("%s defaults to a read-only token", (f) => {
    expect(wf[f]!.permissions).toEqual({ contents: "read" });
  });

  it.each(files)(
    "%s: every Pulumi step targets one of the project's stacks, serialized with its other changes",
    (f) => {
      for (const job of Object.values(wf[f]!.jobs)) {
        for (const s of pulumiSteps(job)) {
          const stack = s.with?.["stack-name"];
          expect(["production", "testnet", gh("matrix.stack"), gh("inputs.stack")]).toContain(stack);
          // Each stack's changes and refreshes (deploy, drift check, rollback) wait for one another, in
          // the stack's environment: the group is the stack. A pull request's preview changes nothing.
          if (s.with?.command === "up" || s.with?.refresh) {
            expect(job.concurrency).toEqual({ group: stack, "cancel-in-progress": false });
            expect(job.environment).toBe(stack);
          }
        }
      }
    },
  );
});

describe("test.yml", () => {
  it("runs typecheck, lint and tests on pushes to main, pull requests and when called", () => {
    const w = wf["test.yml"]!;
    expect(Object.keys(w.on).sort()).toEqual(["pull_request", "push", "workflow_call"]);
    const runs = w.jobs
      .test!.steps!.filter((s) => !s.name)
      .map((s) => s.run)
      .filter(Boolean);
    expect(runs).toEqual(["npm ci", "npm run typecheck", "npm run lint", "npm test"]);
  });

  it("runs on Node.js 22 and 24, each leg giving the other version to the cross-version smoke test", () => {
    const job = wf["test.yml"]!.jobs.test!;
    const legs = job.strategy?.matrix?.include as { node: number; other: string }[];
    expect(legs.map((l) => [l.node, Number(l.other.split(".")[0])])).toEqual([
      [22, 24],
      [24, 22],
    ]);
    const other = job.steps!.find((s) => s.env?.OTHER_NODE === gh("matrix.other"));
    expect(other?.run).toContain(
      'npm install --global --prefix "$RUNNER_TEMP/node-other" "node@$OTHER_NODE"',
    );
    expect(other?.run).toContain('TEST_NODE_BINARIES=$RUNNER_TEMP/node-other/bin/node" >> "$GITHUB_ENV"');
    const index = (pred: (s: Step) => boolean) => job.steps!.findIndex(pred);
    expect(index((s) => s === other)).toBeLessThan(index((s) => s.run === "npm test"));
  });
});

describe("preview.yml: production preview on pull requests, safe for forks", () => {
  const w = wf["preview.yml"]!;
  const job = w.jobs.preview!;

  it("runs on pull requests only", () => {
    expect(Object.keys(w.on)).toEqual(["pull_request"]);
  });

  it("reads no secret at all, and no wallet", () => {
    expect(secretsIn(text("preview.yml"))).toEqual([]);
    expect(text("preview.yml")).not.toMatch(/AO_WALLET|PULUMI_ACCESS_TOKEN:/);
  });

  it("cannot write to the repository: its token writes only an OIDC id-token", () => {
    const permissions = job.permissions ?? w.permissions;
    expect(permissions).toBeDefined();
    const writes = Object.entries(permissions!).filter(([, v]) => v === "write");
    expect(writes).toEqual([["id-token", "write"]]);
  });

  it("runs pulumi preview of production with the diff, and keeps the plan for the comment", () => {
    const [p] = pulumiSteps(job);
    expect(p!.with).toMatchObject({
      command: "preview",
      "stack-name": "production",
      diff: true,
      "comment-on-pr": false,
    });
    const upload = job.steps!.find((s) => s.uses?.startsWith("actions/upload-artifact@"));
    expect(upload!.with).toMatchObject({ name: "pulumi-preview" });
  });

  it("logs in to Pulumi Cloud through OIDC only for pull requests from this repository", () => {
    const login = job.steps!.find((s) => s.uses?.startsWith("pulumi/auth-actions@"));
    expect(login!.if).toContain("github.event.pull_request.head.repo.full_name == github.repository");
  });
});

describe("preview-comment.yml: posts the plan without running pull request code", () => {
  const w = wf["preview-comment.yml"]!;
  it("is triggered by the Preview workflow", () => {
    expect(w.on).toEqual({ workflow_run: { workflows: [wf["preview.yml"]!.name], types: ["completed"] } });
  });
  it("never checks out or runs code", () => {
    for (const job of Object.values(w.jobs)) {
      for (const s of job.steps ?? []) {
        expect(s.uses ?? "").not.toMatch(/^actions\/checkout@|^actions\/setup-node@|^pulumi\//);
        expect(s.run ?? "").not.toMatch(/\bnpm\b|\bnode\b|\bpulumi\b|\bbash\s+preview|\bsource\b/);
      }
    }
  });
  it("reads only the automatic token, and may only comment", () => {
    expect(secretsIn(text("preview-comment.yml"))).toEqual([]);
    expect(w.jobs.comment!.permissions).toEqual({ actions: "read", "pull-requests": "write" });
  });
});

describe("deploy.yml: tests, then (optional) testnet, then production, then the CLI release", () => {
  const w = wf["deploy.yml"]!;

  it("runs on version tags, and by hand (for the testnet stack)", () => {
    expect(w.on).toEqual({ push: { tags: ["v*.*.*"] }, workflow_dispatch: {} });
  });

  it("deploys only after the test job, which is the test workflow", () => {
    expect(w.jobs.test!.uses).toBe("./.github/workflows/test.yml");
    expect(needsOf(w.jobs.deploy!)).toEqual(["test"]);
    expect(needsOf(w.jobs.testnet!)).toEqual(["test"]);
  });

  it("deploys testnet on a pre-release tag or by hand, production on a release tag only", () => {
    expect(w.jobs.testnet!.if).toBe(
      "github.event_name == 'workflow_dispatch' || contains(github.ref_name, '-')",
    );
    expect(w.jobs.deploy!.if).toBe("github.event_name == 'push' && !contains(github.ref_name, '-')");
    const [up] = pulumiSteps(w.jobs.testnet!);
    expect(up!.with).toMatchObject({ command: "up", "stack-name": "testnet" });
    // Testnet publishes nothing to the CLI's repository: no token for it.
    expect(up!.env).toEqual({
      PULUMI_ACCESS_TOKEN: gh("secrets.PULUMI_ACCESS_TOKEN"),
      AO_WALLET_JWK: gh("secrets.AO_WALLET_JWK"),
      ARWEAVE_WALLET_JWK: gh("secrets.ARWEAVE_WALLET_JWK"),
    });
    expect(w.jobs.testnet!.environment).toBe("testnet");
  });

  it("runs pulumi up on production with the wallet, state and CLI-repository token", () => {
    const [up] = pulumiSteps(w.jobs.deploy!);
    expect(up!.with).toMatchObject({ command: "up", "stack-name": "production" });
    expect(up!.env).toEqual({
      PULUMI_ACCESS_TOKEN: gh("secrets.PULUMI_ACCESS_TOKEN"),
      AO_WALLET_JWK: gh("secrets.AO_WALLET_JWK"),
      ARWEAVE_WALLET_JWK: gh("secrets.ARWEAVE_WALLET_JWK"),
      GITHUB_TOKEN: gh("secrets.CLI_REPO_TOKEN"),
    });
    expect(w.jobs.deploy!.environment).toBe("production");
  });

  it("reads exactly these secrets", () => {
    expect([...new Set(secretsIn(text("deploy.yml")))]).toEqual([
      "AO_WALLET_JWK",
      "ARWEAVE_WALLET_JWK",
      "CLI_REPO_TOKEN",
      "PULUMI_ACCESS_TOKEN",
    ]);
  });

  it("then triggers the CLI release in the CLI's repository", () => {
    const release = w.jobs["release-cli"]!;
    expect(needsOf(release)).toEqual(["deploy"]);
    expect(release.steps!.map((s) => s.run ?? "").join("\n")).toMatch(
      /gh api "repos\/\$repo\/dispatches" -f event_type=registry-deployed/,
    );
  });

  it("triggers the CLI release after production only", () => {
    expect(needsOf(w.jobs["release-cli"]!)).toEqual(["deploy"]);
  });
});

describe("drift.yml: scheduled preview --refresh --expect-no-changes", () => {
  const w = wf["drift.yml"]!;
  it("runs on a schedule (and by hand)", () => {
    expect(Object.keys(w.on).sort()).toEqual(["schedule", "workflow_dispatch"]);
    expect((w.on.schedule as { cron: string }[])[0]!.cron).toMatch(/^\S+ \S+ \S+ \S+ \S+$/);
  });
  it("fails on any difference between a stack and its state, for production and testnet each", () => {
    const [p] = pulumiSteps(w.jobs.drift!);
    expect(w.jobs.drift!.strategy).toMatchObject({
      "fail-fast": false,
      matrix: { stack: ["production", "testnet"] },
    });
    expect(p!.with).toMatchObject({
      command: "preview",
      "stack-name": gh("matrix.stack"),
      refresh: true,
      "expect-no-changes": true,
    });
  });
  it("needs no wallet", () => {
    expect(secretsIn(text("drift.yml"))).not.toContain("AO_WALLET_JWK");
    expect(secretsIn(text("drift.yml"))).not.toContain("ARWEAVE_WALLET_JWK");
  });
});

describe("rollback.yml: manual, adopts a previous process without spawning", () => {
  const w = wf["rollback.yml"]!;
  const job = w.jobs.rollback!;

  it("is dispatched by hand with a required process ID and the release that deployed it", () => {
    const inputs = (w.on.workflow_dispatch as { inputs: Record<string, { required: boolean; type: string }> })
      .inputs;
    expect(Object.keys(w.on)).toEqual(["workflow_dispatch"]);
    expect(inputs.process_id).toMatchObject({ required: true, type: "string" });
    expect(inputs.ref).toMatchObject({ required: true, type: "string" });
    // Per stack: production unless the operator picks testnet.
    expect(inputs.stack).toMatchObject({
      required: true,
      type: "choice",
      options: ["production", "testnet"],
      default: "production",
    });
  });

  it("validates the process ID before anything else", () => {
    expect(job.steps![0]!.run).toContain("^[A-Za-z0-9_-]{43}$");
  });

  it("runs pulumi up on the chosen stack with aoRegistry:adoptProcessId set to the input", () => {
    const [up] = pulumiSteps(job);
    expect(up!.with).toMatchObject({
      command: "up",
      "stack-name": gh("inputs.stack"),
      "config-map": gh("env.ADOPT_CONFIG"),
    });
    const adopt = job.steps!.find((s) => s.run?.includes("ADOPT_CONFIG="));
    expect(adopt!.run).toContain('aoRegistry:adoptProcessId\\":{\\"value\\":\\"$PROCESS_ID\\"');
    expect(adopt!.run).toContain('aoRegistry:acceptDataLoss\\":{\\"value\\":\\"$ACCEPT_DATA_LOSS\\"');
    expect(adopt!.env).toEqual({
      PROCESS_ID: gh("inputs.process_id"),
      ACCEPT_DATA_LOSS: gh("inputs.accept_data_loss"),
    });
    expect(up!.env?.AO_WALLET_JWK).toBe(gh("secrets.AO_WALLET_JWK"));
    expect(up!.env?.ARWEAVE_WALLET_JWK).toBe(gh("secrets.ARWEAVE_WALLET_JWK"));
  });

  it("refuses, before any deploy, a release whose registry cannot take the state back unless the loss is accepted", () => {
    const names = job.steps!.map((st) => st.name ?? st.uses ?? "");
    const check = job.steps!.findIndex((st) =>
      st.run?.includes(`grep -q '"State-Import"' ao-process/registry.lua`),
    );
    expect(check).toBeGreaterThan(names.findIndex((n) => n.startsWith("Take the registry code")));
    expect(check).toBeLessThan(job.steps!.findIndex((st) => st.uses?.startsWith("pulumi/actions")));
    expect(job.steps![check]!.env).toMatchObject({ ACCEPT_DATA_LOSS: gh("inputs.accept_data_loss") });
    // The step's script itself, on a registry that speaks the protocol (this one) and on one that does not.
    const runIn = (registry: string, accept: string) => {
      const dir = mkdtempSync(join(tmpdir(), "rollback-check-"));
      mkdirSync(join(dir, "ao-process"));
      writeFileSync(join(dir, "ao-process", "registry.lua"), registry);
      return spawnSync("bash", ["-e", "-c", job.steps![check]!.run!], {
        cwd: dir,
        encoding: "utf8",
        env: { ...process.env, REF: "v1.0.0", ACCEPT_DATA_LOSS: accept },
      });
    };
    const current = readFileSync(join(REPO, "ao-process", "registry.lua"), "utf8");
    expect(runIn(current, "false").status).toBe(0);
    const before = runIn('actions["Import-State"] = {}', "false");
    expect(before.status).toBe(1);
    expect(before.stderr).toContain("v1.0.0's registry does not speak the state-transfer protocol");
    expect(runIn('actions["Import-State"] = {}', "true").status).toBe(0);
  });

  it("accepts a data loss only when the operator asks for it (a boolean input, off by default)", () => {
    const inputs = (w.on.workflow_dispatch as { inputs: Record<string, unknown> }).inputs;
    expect(inputs.accept_data_loss).toMatchObject({ type: "boolean", default: false, required: false });
  });

  it("keeps the backup of the moved state as an artifact, even when the run fails", () => {
    const keep = job.steps!.find((s) => s.uses?.startsWith("actions/upload-artifact"));
    expect(keep).toMatchObject({ if: "always()", with: { path: ".ao-backups/" } });
  });

  it("loads the code of the release that deployed the process, and checks production follows it", () => {
    expect(job.steps!.some((s) => s.run?.includes('git checkout "refs/tags/$REF" -- ao-process/'))).toBe(
      true,
    );
    expect(job.steps!.at(-1)!.env).toMatchObject({ GOT: gh("steps.up.outputs.processId") });
  });

  it("then triggers the CLI release (production only) so the next build follows the rollback", () => {
    expect(needsOf(w.jobs["release-cli"]!)).toEqual(["rollback"]);
    expect(w.jobs["release-cli"]!.if).toBe("inputs.stack == 'production'");
    expect(w.jobs["release-cli"]!.steps!.map((s) => s.run).join("\n")).toContain(
      "event_type=registry-deployed",
    );
  });
});

describe(".github/examples/cli-release.yml (for the CLI's repository)", () => {
  const example = parseYaml<Workflow>(
    readFileSync(join(REPO, ".github", "examples", "cli-release.yml"), "utf8"),
  );
  it("listens to the event the deploy and rollback workflows send", () => {
    expect(example.on.repository_dispatch).toEqual({ types: ["registry-deployed"] });
  });
  it("reads the REGISTRY_PROCESS_ID secret the stack writes", () => {
    const steps = Object.values(example.jobs).flatMap((j) => j.steps ?? []);
    expect(steps.some((s) => s.env?.REGISTRY_PROCESS_ID === gh("secrets.REGISTRY_PROCESS_ID"))).toBe(true);
  });
});

/**
 * Step ordering and error mapping of the deployment pipeline, with an in-memory fake AO client.
 * These pin the control flow only; the real proof runs against the local AO network.
 */
import { describe, expect, it } from "vitest";
import type { AoClient, AoResult } from "../../providers/aoClient";
import {
  createStart,
  deployWith,
  luaEvalError,
  type PipelineEnv,
  refreshWith,
  settledUpdate,
  spawnTags,
  updateStart,
} from "../../providers/pipeline";
import { withRetry } from "../../providers/retry";
import { DEFAULT_VALIDATION, type Inputs, type Outputs } from "../../providers/types";
import { ID, sampleInputs } from "./support/inputs";

const code = "Handlers = Handlers or {}";
const inputs: Inputs = sampleInputs(code);
const start = { inputs, deploymentId: "dep-1", owner: ID("o") };
const reply = (hash: string): AoResult => ({ Messages: [{ Tags: [{ name: "Code-Sha256", value: hash }] }] });

interface FakeOptions {
  spawn?: (n: number) => Promise<string>;
  dryrun?: (n: number, action: string) => Promise<AoResult>;
  result?: () => Promise<AoResult>;
  found?: string;
}

function fake(o: FakeOptions = {}) {
  const calls: string[] = [];
  let spawns = 0;
  let dryruns = 0;
  const client: AoClient = {
    async spawn(args) {
      calls.push(`spawn ${args.tags.map((t) => `${t.name}=${t.value}`).join(",")}`);
      return o.spawn ? o.spawn(++spawns) : ID("p");
    },
    async message(args) {
      calls.push(`message ${args.tags[0]?.value}`);
      return ID("e");
    },
    async result() {
      calls.push("result");
      return o.result ? o.result() : {};
    },
    async dryrun(args) {
      const action = args.tags[0]?.value ?? "";
      calls.push(`dryrun ${action}`);
      if (o.dryrun) return o.dryrun(++dryruns, action);
      return action === "Info" ? reply(inputs.codeSha256) : {};
    },
    async findByDeploymentId(id) {
      calls.push(`find ${id}`);
      return o.found;
    },
  };
  const env: PipelineEnv = {
    client,
    retry: (step, endpoint, fn) =>
      withRetry(fn, { step, endpoint, sleep: async () => {}, totalMs: 1_000, now: () => 0 }),
    now: () => new Date("2026-01-02T03:04:05Z"),
    log: () => {},
  };
  return { env, calls };
}

describe("deploy pipeline", () => {
  it("spawns with the identity tags, waits, Evals, reads the result, verifies, in that order", async () => {
    const { env, calls } = fake();
    const outs = await deployWith(env)(start);
    expect(calls).toEqual([
      "spawn Name=registry,Deployment-Id=dep-1,App-Name=registry",
      "dryrun Ping",
      "message Eval",
      "result",
      "dryrun Info",
    ]);
    expect(outs).toMatchObject({
      processId: ID("p"),
      evalMessageId: ID("e"),
      owner: ID("o"),
      codeSha256: inputs.codeSha256,
      deploymentId: "dep-1",
      deployedAt: "2026-01-02T03:04:05.000Z",
    });
  });

  it("tags the authority when one is given", () => {
    expect(spawnTags({ ...inputs, authority: ID("a") }, "d").map((t) => t.name)).toEqual([
      "Name",
      "Authority",
      "Deployment-Id",
      "App-Name",
    ]);
  });

  it("after a lost spawn reply, finds the spawn by deployment ID instead of spawning twice", async () => {
    const { env, calls } = fake({
      spawn: async () => {
        throw Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
      },
      found: ID("f"),
    });
    const outs = await deployWith(env)(start);
    expect(calls.filter((c) => c.startsWith("spawn") || c.startsWith("find"))).toEqual([
      expect.stringMatching(/^spawn /),
      "find dep-1",
    ]);
    expect(outs.processId).toBe(ID("f"));
  });

  it("waits while the compute unit does not know the process yet", async () => {
    const { env, calls } = fake({
      dryrun: async (n, action) => {
        if (action === "Ping" && n < 3) throw new Error(`Process ${ID("p")} not found`);
        return reply(inputs.codeSha256);
      },
    });
    await deployWith(env)(start);
    expect(calls.filter((c) => c === "dryrun Ping")).toHaveLength(3);
  });

  it("fails on an Eval error with the Lua message, as an init error carrying the process and __provider", async () => {
    const { env } = fake({
      result: async () => ({ Error: '[string "aos"]:3: attempt to call a nil value' }),
    });
    const err = await deployWith(env)(start, { __provider: "serialized" }).catch((e) => e);
    expect(err.name).toBe("DeployInitError");
    expect(err.message).toContain('[string "aos"]:3: attempt to call a nil value');
    expect(err.message).toContain(`Process ${ID("p")} exists`);
    expect(err.id).toBe(ID("p"));
    expect(err.reasons[0]).toMatch(/Eval of the code failed/);
    expect(err.properties).toMatchObject({
      __provider: "serialized",
      processId: ID("p"),
      evalMessageId: ID("e"),
      deploymentId: "dep-1",
    });
    expect(err.properties.deployedAt).toBeUndefined();
    expect(luaEvalError("p", "m", "x").luaError).toBe("x");
  });

  it("fails when the process reports another code hash, or none", async () => {
    const other = fake({ dryrun: async (_n, a) => (a === "Info" ? reply("f".repeat(64)) : {}) });
    const e1 = await deployWith(other.env)(start).catch((e) => e);
    expect(e1.message).toMatch(/reports Code-Sha256=f{64}, but the deployed code is/);
    const none = fake({ dryrun: async () => ({ Messages: [] }) });
    const e2 = await deployWith(none.env)(start).catch((e) => e);
    expect(e2.message).toMatch(/did not reply to Action=Info with a Code-Sha256 tag/);
  });

  it("skips the hash check when validation.skip is set", async () => {
    const { env, calls } = fake({ dryrun: async () => ({}) });
    await deployWith(env)({
      ...start,
      inputs: { ...inputs, validation: { ...DEFAULT_VALIDATION, skip: true } },
    });
    expect(calls).not.toContain("dryrun Info");
  });

  it("resumes (or adopts) an existing process without spawning", async () => {
    const { env, calls } = fake();
    const outs = await deployWith(env)({ ...start, processId: ID("r") });
    expect(calls.some((c) => c.startsWith("spawn"))).toBe(false);
    expect(outs.processId).toBe(ID("r"));
  });

  it("records the adoption under its one name, adoptProcessId, beside the process ID", async () => {
    const { env } = fake();
    const outs = await deployWith(env)({
      ...start,
      inputs: { ...inputs, adoptProcessId: ID("a") },
      processId: ID("a"),
    });
    expect(outs).toMatchObject({ processId: ID("a"), adoptProcessId: ID("a") });
    expect(outs).not.toHaveProperty("adoptedProcessId");
  });

  it("a failed spawn is a plain error, not an init error (nothing exists yet)", async () => {
    const { env } = fake({
      spawn: async () => {
        throw Object.assign(new Error("bad request"), { status: 400 });
      },
    });
    const err = await deployWith(env)(start).catch((e) => e);
    expect(err.name).toBe("RetryError");
    expect(err.message).toMatch(
      /^spawn failed at http:\/\/127\.0\.0\.1:1 after 1 attempt \(last HTTP status 400\)/,
    );
  });
});

describe("where create, update and refresh start", () => {
  const deployed: Outputs = {
    ...(({ code: _, ...rest }) => rest)(inputs),
    processId: ID("p"),
    evalMessageId: ID("e"),
    owner: ID("o"),
    deployedAt: "2026-01-01T00:00:00.000Z",
    deploymentId: "dep-0",
  };

  it("create adopts the process adoptProcessId names, else spawns; __provider stays out", () => {
    const withProvider = { ...inputs, __provider: "shim" } as Inputs;
    expect(createStart(withProvider, ID("o"), "dep-1")).toEqual({ ...start, processId: undefined });
    expect(createStart({ ...inputs, adoptProcessId: ID("a") }, ID("o"), "dep-1").processId).toBe(ID("a"));
  });

  it("update keeps the state's owner and deployment ID, taking the wallet's and a new one only when missing", () => {
    expect(updateStart(ID("p"), deployed, inputs, ID("w"), "dep-new")).toMatchObject({
      processId: ID("p"),
      owner: ID("o"),
      deploymentId: "dep-0",
    });
    const partial = { ...deployed, owner: "", deploymentId: "" };
    expect(updateStart(ID("p"), partial, inputs, ID("w"), "dep-new")).toMatchObject({
      owner: ID("w"),
      deploymentId: "dep-new",
    });
  });

  it("settles an update of deployed code without AO, dropping the outputs earlier releases wrote", () => {
    const legacy = { ...deployed, code: "old", adoptedProcessId: ID("p") } as Outputs;
    const news = {
      ...inputs,
      endpoints: { ...inputs.endpoints, cu: "http://cu2" },
      __provider: "x",
    } as Inputs;
    expect(settledUpdate(ID("p"), legacy, news)).toEqual({
      ...deployed,
      endpoints: news.endpoints,
    });
  });

  it("does not settle when the code changed or the state records no completed deployment", () => {
    expect(settledUpdate(ID("p"), deployed, { ...inputs, codeSha256: "f".repeat(64) })).toBeUndefined();
    expect(settledUpdate(ID("p"), { ...deployed, deployedAt: "" }, inputs)).toBeUndefined();
  });

  it("refresh records the live code hash on drift, and leaves skipped validation alone", async () => {
    const { env, calls } = fake({ dryrun: async () => reply("d".repeat(64)) });
    expect(await refreshWith(env)(ID("p"), deployed)).toEqual({ ...deployed, codeSha256: "d".repeat(64) });
    const skipped = { ...deployed, validation: { ...DEFAULT_VALIDATION, skip: true } };
    calls.length = 0;
    expect(await refreshWith(env)(ID("p"), skipped)).toBe(skipped);
    expect(calls).toEqual([]);
  });
});

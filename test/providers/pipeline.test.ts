/**
 * Step ordering and error mapping of the deployment pipeline, with an in-memory fake AO client.
 * These pin the control flow only; the real proof runs against the local AO network.
 */
import { describe, expect, it } from "vitest";
import type { AoClient, AoResult, Sent } from "../../providers/aoClient";
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
  /** Whether the network knows the spawned process when asked. */
  exists?: boolean;
  /** What sending a message answers (default: a message ID). */
  sent?: Sent;
  /** Sending the n-th message (default: answers `sent`). */
  message?: (n: number) => Promise<Sent>;
  /** Whether the network holds a message whose reply was lost, when asked. */
  scheduled?: boolean;
  nodeAddress?: string;
}

function fake(o: FakeOptions = {}) {
  const calls: string[] = [];
  let spawns = 0;
  let messages = 0;
  let dryruns = 0;
  const client: AoClient = {
    spawner(args) {
      let signed: string | undefined;
      return {
        signedId: () => signed,
        async lookup() {
          calls.push(`exists ${signed}`);
          return o.exists ? signed : undefined;
        },
        async send() {
          signed = ID("p");
          calls.push(
            `spawn ${args.authority ?? "-"} ${args.tags.map((t) => `${t.name}=${t.value}`).join(",")}`,
          );
          return o.spawn ? o.spawn(++spawns) : ID("p");
        },
      };
    },
    sender(args) {
      let signed: string | undefined;
      const answer = o.sent ?? { id: ID("e") };
      return {
        signedId: () => signed,
        async lookup() {
          calls.push(`scheduled? ${signed}`);
          return o.scheduled ? answer : undefined;
        },
        async send() {
          signed = ID("e");
          calls.push(`message ${args.tags[0]?.value}`);
          return o.message ? o.message(++messages) : answer;
        },
      };
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
    ...(o.nodeAddress
      ? {
          async nodeAddress() {
            calls.push("address");
            return o.nodeAddress!;
          },
        }
      : {}),
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
      "spawn - Name=registry,Deployment-Id=dep-1,App-Name=registry",
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

  it("hands the authority to the client apart from the tags (a tag on legacy, a field on mainnet)", async () => {
    expect(spawnTags({ ...inputs, authority: ID("a") }, "d").map((t) => t.name)).toEqual([
      "Name",
      "Deployment-Id",
      "App-Name",
    ]);
    const { env, calls } = fake();
    await deployWith(env)({ ...start, inputs: { ...inputs, authority: ID("a") } });
    expect(calls[0]).toBe(`spawn ${ID("a")} Name=registry,Deployment-Id=dep-1,App-Name=registry`);
  });

  it("after a lost spawn reply, asks whether the signed spawn's process exists instead of spawning twice", async () => {
    const { env, calls } = fake({
      spawn: async () => {
        throw Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
      },
      exists: true,
    });
    const outs = await deployWith(env)(start);
    expect(calls.filter((c) => c.startsWith("spawn") || c.startsWith("exists"))).toEqual([
      expect.stringMatching(/^spawn /),
      `exists ${ID("p")}`,
    ]);
    expect(outs.processId).toBe(ID("p"));
  });

  it("after a lost spawn reply, re-sends the same spawn when the network does not know it", async () => {
    let n = 0;
    const { env, calls } = fake({
      spawn: async () => {
        if (++n === 1) throw Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
        return ID("p");
      },
    });
    expect((await deployWith(env)(start)).processId).toBe(ID("p"));
    expect(calls.filter((c) => c.startsWith("spawn") || c.startsWith("exists"))).toEqual([
      expect.stringMatching(/^spawn /),
      `exists ${ID("p")}`,
      expect.stringMatching(/^spawn /),
    ]);
  });

  it("after a lost Eval reply, asks whether the signed Eval was scheduled, and does not send it again", async () => {
    const { env, calls } = fake({
      message: async () => {
        throw Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
      },
      scheduled: true,
    });
    const outs = await deployWith(env)(start);
    expect(calls.filter((c) => /^(message|scheduled)/.test(c))).toEqual([
      "message Eval",
      `scheduled? ${ID("e")}`,
    ]);
    expect(outs.evalMessageId).toBe(ID("e"));
  });

  it("after a lost Eval reply, re-sends the same signed Eval when the network does not hold it", async () => {
    const { env, calls } = fake({
      message: async (n) => {
        if (n === 1) throw Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
        return { id: ID("e") };
      },
    });
    await deployWith(env)(start);
    expect(calls.filter((c) => /^(message|scheduled)/.test(c))).toEqual([
      "message Eval",
      `scheduled? ${ID("e")}`,
      "message Eval",
    ]);
  });

  it("uses the result a push answered instead of asking for it again", async () => {
    const { env, calls } = fake({ sent: { slot: 1, result: { Messages: [] } } });
    const outs = await deployWith(env)(start);
    expect(calls).not.toContain("result");
    expect(outs.evalSlot).toBe(1);
    const failed = fake({ sent: { slot: 1, result: { Error: "boom" } } });
    const err = await deployWith(failed.env)(start).catch((e) => e);
    expect(err.message).toContain("Eval of the code failed in process");
    expect(err.message).toContain("boom");
  });

  it("mainnet: records the Eval's slot, not a message ID", async () => {
    const mainnet = { ...inputs, endpoints: { network: "mainnet" as const, node: "http://localhost:1" } };
    const { env } = fake({ sent: { slot: 1 }, nodeAddress: ID("a") });
    const outs = await deployWith(env)({ ...start, inputs: { ...mainnet, authority: ID("a") } });
    expect(outs.evalSlot).toBe(1);
    expect(outs.evalMessageId).toBeUndefined();
  });

  it("mainnet: refuses to spawn when the node reports another address than the pinned authority", async () => {
    const mainnet = { ...inputs, endpoints: { network: "mainnet" as const, node: "http://localhost:1" } };
    const { env, calls } = fake({ nodeAddress: ID("n") });
    const err = await deployWith(env)({ ...start, inputs: { ...mainnet, authority: ID("a") } }).catch(
      (e) => e,
    );
    expect(err.name).toBe("AuthorityMismatch");
    expect(err.message).toContain(
      `node http://localhost:1 reports address ${ID("n")}, but the stack pins authority ${ID("a")}`,
    );
    expect(err.message).toContain("pulumi config set aoRegistry:authority");
    expect(calls).toEqual(["address"]);
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
    expect(luaEvalError("p", { id: "m" }, "x").luaError).toBe("x");
    expect(luaEvalError("p", { slot: 3 }, "x").message).toContain("(slot 3)");
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

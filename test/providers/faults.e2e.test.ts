/**
 * Retries and no duplicates, through a fault-injecting proxy in front of the local network, in both
 * modes (the legacy messenger and compute unit; the mainnet node, which plays both): a spawn whose reply
 * is lost, a spawn refused before it reached the network, a lost reply whose existence check fails,
 * a refused Eval, a compute unit answering 5xx, a node answering 400 while it starts and stalling at a
 * slot. Every create must end with exactly one process. And one signature per message: an Eval or a
 * state-transfer action whose reply is lost after it was scheduled is found by its ID, never sent again,
 * and the process's schedule holds it once.
 */
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkInputs, Provider } from "../../providers/aoProcess";
import { bundleLua } from "../../providers/bundle";
import { pipelineEnv } from "../../providers/effects";
import { sha256Hex } from "../../providers/hash";
import { createMainnetClient } from "../../providers/mainnetClient";
import { withRetry } from "../../providers/retry";
import { transferClient } from "../../providers/stateTransfer";
import type { Inputs } from "../../providers/types";
import { type Devnet, withDevnet } from "../support/devnet";
import { testWallet, walletInEnv } from "../support/wallets";
import { type Fault, type SeenRequest, startFaultProxy } from "./support/faultProxy";
import { endpointsIn, infoTags, MODES, type Mode, networkInputs, spawnsOf } from "./support/network";

let net: Devnet & { cleanup(): Promise<void> };
const deployer = testWallet("aoprocess-deployer");
const provider = new Provider();
const proxies: { close(): Promise<void> }[] = [];
let restoreEnv: () => void;

beforeAll(async () => {
  net = await withDevnet();
  restoreEnv = walletInEnv(deployer.jwk);
});
afterAll(async () => {
  for (const p of proxies) await p.close();
  await net?.cleanup();
  restoreEnv?.();
});

const code = `Handlers.add("Info", "Info", function(msg)
  msg.reply({ Tags = { ["Code-Sha256"] = DeployedCode and DeployedCode.Sha256 or "" } })
end)`;

async function proxy(target: string, rule: (r: SeenRequest) => Fault) {
  const p = await startFaultProxy(target, rule);
  proxies.push(p);
  return p;
}

/**
 * The inputs with the network's writes (legacy: the messenger; mainnet: the node, which also computes)
 * or its compute unit reached through a proxy.
 */
function inputs(mode: Mode, through: { writes?: string; cu?: string }): Inputs {
  const base = networkInputs(net, "faults-e2e", mode);
  const endpoints =
    mode === "mainnet"
      ? { network: "mainnet", node: through.writes ?? through.cu ?? net.urls.node }
      : {
          ...endpointsIn(net, mode),
          ...(through.writes ? { mu: through.writes } : {}),
          ...(through.cu ? { cu: through.cu } : {}),
        };
  const { inputs, failures } = checkInputs({ ...base, code, endpoints });
  expect(failures).toEqual([]);
  return inputs!;
}

const writesUrl = (mode: Mode) => (mode === "mainnet" ? net.urls.node! : net.urls.mu);
/**
 * Writes that may be the spawn: the node's POST /push; every POST to the legacy messenger (the spawn
 * comes first, the Eval after it).
 */
const isSpawn = (mode: Mode) => (r: SeenRequest) =>
  mode === "mainnet" ? r.method === "POST" && r.url === "/push" : r.method === "POST";
/** The mainnet existence check of a spawn whose reply was lost. */
const isSlotCheck = (r: SeenRequest) => r.url.endsWith("/slot/current");
/** A message to a process (not the spawn): the node's push, or a POST to the messenger after the spawn. */
const isMessagePost = (mode: Mode) => (r: SeenRequest) =>
  mode === "mainnet" ? r.url.endsWith("~process@1.0/push") : r.method === "POST" && r.n > 1;
/** The mainnet lookup of a message by its ID: the scheduler's schedule route. */
const isScheduleLookup = (r: SeenRequest) =>
  r.method === "GET" && r.url.startsWith("/~scheduler@1.0/schedule?");

/** The Action of every message in a process's schedule, in slot order (the scheduler's own record). */
async function actionsIn(pid: string): Promise<string[]> {
  const page = (await (await fetch(`${net.urls.su}/${pid}?limit=1000`)).json()) as {
    edges: { node: { message: { tags: { name: string; value: string }[] } } }[];
  };
  return page.edges.slice(1).map((e) => e.node.message.tags.find((t) => t.name === "Action")?.value ?? "");
}

describe.each(MODES)("AoProcess create through faults (%s)", (mode) => {
  it("a spawn whose reply is lost: the retry finds the process it signed, one process, sent once", async () => {
    let spawns = 0;
    const p = await proxy(writesUrl(mode), (r) =>
      isSpawn(mode)(r) && ++spawns === 1 ? "drop-reply" : "pass",
    );
    const { id, outs } = await provider.create(inputs(mode, { writes: p.url }));
    expect(await spawnsOf(net, outs!.deploymentId)).toEqual([id]);
    // The spawn once (legacy: then the Eval, also POST /).
    expect(p.seen.filter(isSpawn(mode))).toHaveLength(mode === "mainnet" ? 1 : 2);
  });

  it("a spawn refused before it reached the network: re-sent as the same signed bytes, one process", async () => {
    let spawns = 0;
    const p = await proxy(writesUrl(mode), (r) =>
      isSpawn(mode)(r) && ++spawns === 1 ? { status: 503 } : "pass",
    );
    const { id, outs } = await provider.create(inputs(mode, { writes: p.url }));
    expect(await spawnsOf(net, outs!.deploymentId)).toEqual([id]);
    const sent = p.seen.filter(isSpawn(mode)).slice(0, 2);
    expect(sent).toHaveLength(2);
    expect(sent[1]!.bodySha256).toBe(sent[0]!.bodySha256);
  });

  it("a messenger that refuses the Eval once (503): not scheduled, so the same signed bytes go again; one Eval", async () => {
    let evals = 0;
    const p = await proxy(writesUrl(mode), (r) =>
      isMessagePost(mode)(r) && ++evals === 1 ? { status: 503 } : "pass",
    );
    const { id, outs } = await provider.create(inputs(mode, { writes: p.url }));
    const sent = p.seen.filter(isMessagePost(mode));
    expect(sent).toHaveLength(2);
    expect(sent[1]!.bodySha256).toBe(sent[0]!.bodySha256);
    expect(await spawnsOf(net, outs!.deploymentId)).toEqual([id]);
    expect(await actionsIn(id)).toEqual(["Eval"]);
  });

  it("an Eval whose reply is lost after it was scheduled: found by its ID, never sent again; the schedule holds one Eval", async () => {
    let evals = 0;
    const p = await proxy(writesUrl(mode), (r) =>
      isMessagePost(mode)(r) && ++evals === 1 ? "drop-reply" : "pass",
    );
    const { id, outs } = await provider.create(inputs(mode, { writes: p.url }));
    expect(p.seen.filter(isMessagePost(mode))).toHaveLength(1);
    expect(await actionsIn(id)).toEqual(["Eval"]);
    expect(outs!.codeSha256).toBe(sha256Hex(code));
    // Mainnet asks the node's schedule route (legacy asks the scheduler the gateway names, not proxied).
    if (mode === "mainnet") expect(p.seen.filter(isScheduleLookup).length).toBeGreaterThan(0);
  });

  it("a state-transfer action whose reply is lost after it was scheduled: answered from the network, in the schedule once", async () => {
    const registry = bundleLua(path.join(__dirname, "..", "..", "ao-process", "registry.lua")).code;
    const { id } = await provider.create({
      ...inputs(mode, {}),
      code: registry,
      codeSha256: sha256Hex(registry),
      stateTransfer: true,
    });
    // Every write through this proxy is the action (the spawn went straight to the network).
    const isAction = (r: SeenRequest) => (mode === "mainnet" ? isMessagePost(mode)(r) : r.method === "POST");
    let writes = 0;
    const p = await proxy(writesUrl(mode), (r) => (isAction(r) && ++writes === 1 ? "drop-reply" : "pass"));
    const endpoints = inputs(mode, { writes: p.url }).endpoints;
    const transfer = transferClient(pipelineEnv(endpoints, deployer.jwk), endpoints, id, deployer.address);
    const opened = await transfer.open();
    expect(opened.info.status).toBe("open");
    expect(p.seen.filter(isAction)).toHaveLength(1);
    expect(await actionsIn(id)).toEqual(["Eval", "State-Open"]);
  });

  it("a compute unit answering 502 to its first requests: retried, deployed", async () => {
    const compute = (r: SeenRequest) => mode === "legacy" || r.url.includes("compute");
    let failed = 0;
    const cu = await proxy(mode === "mainnet" ? net.urls.node! : net.urls.cu, (r) =>
      compute(r) && ++failed <= 2 ? { status: 502 } : "pass",
    );
    const { id, outs } = await provider.create(inputs(mode, { cu: cu.url }));
    expect(failed).toBeGreaterThan(2);
    // What the process itself reports (a dry-run straight to the network), not what check computed.
    expect((await infoTags(net, deployer, id))["Code-Sha256"]).toBe(sha256Hex(code));
    expect(outs!.codeSha256).toBe(sha256Hex(code));
  });
});

describe("AoProcess create through faults (mainnet only)", () => {
  it("a lost spawn reply whose existence check says unknown: the same bytes again, which the node takes as one spawn", async () => {
    let spawns = 0;
    let checks = 0;
    const p = await proxy(net.urls.node!, (r) => {
      if (isSpawn("mainnet")(r) && ++spawns === 1) return "drop-reply";
      if (isSlotCheck(r) && ++checks === 1) return { status: 404, body: '{"error":"unknown process"}' };
      return "pass";
    });
    const { id, outs } = await provider.create(inputs("mainnet", { writes: p.url }));
    const sent = p.seen.filter(isSpawn("mainnet"));
    expect(sent).toHaveLength(2);
    expect(sent[1]!.bodySha256).toBe(sent[0]!.bodySha256);
    expect(await spawnsOf(net, outs!.deploymentId)).toEqual([id]);
  });

  it("a node answering 400 to compute requests while its compute unit starts: retried, deployed", async () => {
    let starting = 0;
    const p = await proxy(net.urls.node!, (r) =>
      r.url.includes("compute") && ++starting <= 3 ? { status: 400, body: "compute unit starting" } : "pass",
    );
    const { outs } = await provider.create(inputs("mainnet", { writes: p.url }));
    expect(starting).toBeGreaterThan(3);
    expect(outs!.codeSha256).toBe(sha256Hex(code));
  });

  it("a node stalled at a slot: bounded per request, retried, and the final error names the node and the slot", async () => {
    const { id } = await provider.create(inputs("mainnet", {}));
    const stalledOnce = { n: 0 };
    const p = await proxy(net.urls.node!, (r) =>
      r.url.includes("/compute/results=") && ++stalledOnce.n === 1 ? { delayMs: 1_500 } : "pass",
    );
    const client = createMainnetClient({ network: "mainnet", node: p.url }, deployer.jwk, {
      computeTimeoutMs: 300,
    });
    const retry = <T>(fn: () => Promise<T>, totalMs: number) =>
      withRetry(fn, { step: "eval result", endpoint: p.url, totalMs, initialDelayMs: 50 });
    const result = await retry(() => client.result({ process: id, message: { slot: 1 } }), 5_000);
    expect(result.Error).toBeUndefined();
    expect(stalledOnce.n).toBe(2);

    const always = await proxy(net.urls.node!, (r) =>
      r.url.includes("/compute/results=") ? { delayMs: 1_000 } : "pass",
    );
    const stuck = createMainnetClient({ network: "mainnet", node: always.url }, deployer.jwk, {
      computeTimeoutMs: 200,
    });
    const err = await withRetry(() => stuck.result({ process: id, message: { slot: 1 } }), {
      step: "eval result",
      endpoint: always.url,
      totalMs: 600,
      initialDelayMs: 50,
    }).catch((e) => e);
    expect(err.name).toBe("RetryError");
    expect(err.message).toContain(`node ${always.url} did not answer the result of slot 1 of process ${id}`);
    expect(err.message).toContain("gave up: retry time exhausted");
  });
});

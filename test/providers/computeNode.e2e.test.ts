/**
 * Scheduling and computing on different nodes: a local network with two mainnet doors on two ports, one
 * that schedules only (its compute routes answer 404, as one third-party note says push.forward.computer
 * does) and one that computes. A stack names the first as its node and the second as its compute node.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkInputs, Provider } from "../../providers/aoProcess";
import { sha256Hex } from "../../providers/hash";
import { createMainnetClient } from "../../providers/mainnetClient";
import type { Inputs } from "../../providers/types";
import { type Devnet, withDevnet } from "../support/devnet";
import { testWallet, walletInEnv } from "../support/wallets";
import { type SeenRequest, startFaultProxy } from "./support/faultProxy";
import { infoTags, networkInputs } from "./support/network";

let net: Devnet & { cleanup(): Promise<void> };
const deployer = testWallet("aoprocess-deployer");
const provider = new Provider();
const proxies: { close(): Promise<void> }[] = [];
let restoreEnv: () => void;

beforeAll(async () => {
  net = await withDevnet({ scheduleOnlyNode: {}, foreignSchedulers: [] });
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

/** A pass-through proxy that records what reaches a door. */
async function watched(target: string) {
  const p = await startFaultProxy(target, () => "pass");
  proxies.push(p);
  return p;
}

const isCompute = (r: SeenRequest) => /\/compute(\/results)?=|as=execution\/compute/.test(r.url);

function inputs(endpoints: Record<string, unknown>): Inputs {
  const checked = checkInputs({ ...networkInputs(net, "compute-node-e2e", "mainnet"), code, endpoints });
  expect(checked.failures).toEqual([]);
  return checked.inputs!;
}

describe("a stack whose push node schedules only and whose compute node computes", () => {
  it("pushes to the node, reads results and dry-runs from the compute node, and records both", async () => {
    const push = await watched(net.urls.scheduleOnlyNode!);
    const compute = await watched(net.urls.node!);
    const endpoints = { network: "mainnet", node: push.url, computeNode: compute.url };
    const { id, outs } = await provider.create(inputs(endpoints));
    expect(outs).toMatchObject({ endpoints, authority: net.nodeAddress, codeSha256: sha256Hex(code) });
    expect((await infoTags(net, deployer, id))["Code-Sha256"]).toBe(sha256Hex(code));
    // The push node took the spawn and the Eval (and answered its address and slots); it computed nothing.
    const pushed = push.seen.map((r) => `${r.method} ${r.url}`);
    expect(pushed).toContain("POST /push");
    expect(pushed).toContain(`POST /${id}~process@1.0/push`);
    expect(push.seen.filter(isCompute)).toEqual([]);
    // The compute node computed: the Eval's result (the push answered none) and the dry-runs.
    expect(compute.seen.filter(isCompute).length).toBeGreaterThanOrEqual(2);
    expect(compute.seen.filter((r) => r.url.endsWith("/push"))).toEqual([]);
  });

  it("another compute node is an update in place, not a replacement", async () => {
    const node = net.urls.scheduleOnlyNode!;
    const { id, outs } = await provider.create(
      inputs({ network: "mainnet", node, computeNode: net.urls.node! }),
    );
    const elsewhere = inputs({ network: "mainnet", node, computeNode: "http://localhost:1" });
    expect(await provider.diff(id, outs!, elsewhere)).toMatchObject({ changes: true, replaces: [] });
  });

  it("without a compute node, the schedule-only node's 404 names the node and the setting that fixes it", async () => {
    const { id } = await provider.create(
      inputs({ network: "mainnet", node: net.urls.scheduleOnlyNode!, computeNode: net.urls.node! }),
    );
    const alone = createMainnetClient({ network: "mainnet", node: net.urls.scheduleOnlyNode! }, deployer.jwk);
    const err = await alone.result({ process: id, message: { slot: 1 } }).catch((e) => e);
    expect(err.status).toBe(404);
    expect(err.message).toContain(`node ${net.urls.scheduleOnlyNode} answered HTTP 404`);
    expect(err.message).toContain("aoRegistry:computeNodeUrl");
  });
});

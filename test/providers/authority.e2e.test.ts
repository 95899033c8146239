/**
 * The authority of a mainnet process, through the provider against a local network whose node, scheduler
 * and messenger have their own keys (as on AO): the first deploy reads the node's address, spawns with it
 * and records it; a later deploy whose node answers another address stops in the diff, before anything is
 * spawned or moved, naming both addresses and the command that accepts the new one; a pin is checked the
 * same way, and a pin other than the recorded authority replaces the process.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkInputs, Provider } from "../../providers/aoProcess";
import type { Inputs, Outputs } from "../../providers/types";
import { type Devnet, withDevnet } from "../support/devnet";
import { testWallet, walletInEnv } from "../support/wallets";
import { type SeenRequest, startFaultProxy } from "./support/faultProxy";
import { networkInputs, spawnsOf, spawnTagsOf } from "./support/network";

let net: Devnet & { cleanup(): Promise<void> };
const deployer = testWallet("aoprocess-deployer");
const provider = new Provider();
const proxies: { close(): Promise<void> }[] = [];
let restoreEnv: () => void;
/** Another node's address: what a node whose key changed would answer. */
const OTHER = testWallet("bob").address;

beforeAll(async () => {
  net = await withDevnet({ foreignSchedulers: [] });
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

function mainnet(patch: Record<string, unknown> = {}): Inputs {
  const { inputs, failures } = checkInputs({
    ...networkInputs(net, "authority-e2e", "mainnet"),
    code,
    ...patch,
  });
  expect(failures).toEqual([]);
  return inputs!;
}

/** The node behind a proxy that answers `address` to GET /~meta@1.0/info/address (a node whose key changed). */
async function nodeAnswering(address: string) {
  const p = await startFaultProxy(net.urls.node!, (r: SeenRequest) =>
    r.url === "/~meta@1.0/info/address" ? { status: 200, body: address } : "pass",
  );
  proxies.push(p);
  return p;
}

describe("a mainnet process's authority: the node's address, resolved, recorded, compared", () => {
  let created: Outputs;

  it("the first deploy reads the node's address and spawns with it: not the scheduler's, not the messenger's", async () => {
    expect(new Set([net.nodeAddress, net.schedulerId, net.authority]).size).toBe(3);
    const inputs = mainnet();
    expect(inputs.authority).toBeUndefined();
    const { id, outs } = await provider.create(inputs);
    created = outs!;
    expect(outs!.authority).toBe(net.nodeAddress);
    expect((await spawnTagsOf(net, id)).Authority).toBe(net.nodeAddress);
  });

  it("a later deploy compares the node's answer with the recorded authority: the same, a plain diff", async () => {
    expect(await provider.diff(created.processId, created, mainnet())).toEqual({ changes: false });
    const changedCode = await provider.diff(
      created.processId,
      created,
      mainnet({ code: `${code}\nRelease = 2` }),
    );
    expect(changedCode.replaces).toEqual(["code"]);
  });

  it("a node answering another address stops the diff before anything is spawned or moved, naming both and the fix", async () => {
    const p = await nodeAnswering(OTHER);
    const news = mainnet({ code: `${code}\nRelease = 3`, endpoints: { network: "mainnet", node: p.url } });
    const err = await provider.diff(created.processId, created, news).catch((e) => e);
    expect(err.name).toBe("AuthorityChanged");
    expect(err.message).toContain(
      `node ${p.url} reports address ${OTHER}, but process ${created.processId} was spawned with authority ${net.nodeAddress}`,
    );
    expect(err.message).toContain("Nothing was spawned or moved");
    expect(err.message).toContain(
      `pulumi config set aoRegistry:authority ${OTHER} (this replaces the process`,
    );
    // Only the address was asked: nothing was sent to the node.
    expect(new Set(p.seen.map((r) => `${r.method} ${r.url}`))).toEqual(
      new Set(["GET /~meta@1.0/info/address"]),
    );
    expect(await spawnsOf(net, created.deploymentId)).toEqual([created.processId]);
  });

  it("accepting the new address by pinning it replaces the process; a pin the node does not report stops the deploy", async () => {
    const p = await nodeAnswering(OTHER);
    const endpoints = { network: "mainnet", node: p.url };
    const accepted = await provider.diff(
      created.processId,
      created,
      mainnet({ endpoints, authority: OTHER }),
    );
    expect(accepted.replaces).toEqual(["authority"]);
    const wrong = await provider
      .diff(created.processId, created, mainnet({ endpoints, authority: net.nodeAddress }))
      .catch((e) => e);
    expect(wrong.name).toBe("AuthorityMismatch");
    expect(wrong.message).toContain(
      `reports address ${OTHER}, but the stack pins authority ${net.nodeAddress}`,
    );
    expect(wrong.message).toContain(`pulumi config set aoRegistry:authority ${OTHER} (this replaces process`);
  });

  it("a pin equal to the recorded authority and the node's answer changes nothing", async () => {
    expect(await provider.diff(created.processId, created, mainnet({ authority: net.nodeAddress }))).toEqual({
      changes: false,
    });
  });

  it("a create whose node answers another address than the pin spawns nothing", async () => {
    const p = await nodeAnswering(OTHER);
    const inputs = mainnet({ endpoints: { network: "mainnet", node: p.url }, authority: net.nodeAddress });
    const err = await provider.create(inputs).catch((e) => e);
    expect(err.name).toBe("AuthorityMismatch");
    expect(err.message).toContain("a new process is spawned with it");
    expect(p.seen.filter((r) => r.method === "POST")).toEqual([]);
  });
});

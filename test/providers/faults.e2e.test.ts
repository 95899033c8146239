/**
 * Retries and no duplicates, through a fault-injecting proxy in front of the local network's units:
 * a messenger that accepts the spawn but drops the reply, a messenger that refuses the Eval once, and
 * a compute unit answering 5xx. Every create must end with exactly one process.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkInputs, Provider } from "../../providers/aoProcess";
import type { Inputs } from "../../providers/types";
import { type Devnet, withDevnet } from "../support/devnet";
import { testWallet } from "../support/wallets";
import { type Fault, type SeenRequest, startFaultProxy } from "./support/faultProxy";
import { spawnsOf } from "./support/network";

let net: Devnet & { cleanup(): Promise<void> };
const deployer = testWallet("aoprocess-deployer");
const provider = new Provider();
const saved = process.env.AO_WALLET_JWK;
const proxies: { close(): Promise<void> }[] = [];

beforeAll(async () => {
  net = await withDevnet();
  process.env.AO_WALLET_JWK = JSON.stringify(deployer.jwk);
});
afterAll(async () => {
  for (const p of proxies) await p.close();
  await net?.cleanup();
  if (saved === undefined) delete process.env.AO_WALLET_JWK;
  else process.env.AO_WALLET_JWK = saved;
});

const code = `Handlers.add("Info", "Info", function(msg)
  msg.reply({ Tags = { ["Code-Sha256"] = DeployedCode and DeployedCode.Sha256 or "" } })
end)`;

async function proxy(target: string, rule: (r: SeenRequest) => Fault) {
  const p = await startFaultProxy(target, rule);
  proxies.push(p);
  return p;
}

function inputs(endpoints: { mu: string; cu: string; gateway: string }): Inputs {
  const { inputs, failures } = checkInputs({
    code,
    module: net.moduleId,
    scheduler: net.schedulerId,
    authority: net.authority,
    name: "faults-e2e",
    endpoints,
  });
  expect(failures).toEqual([]);
  return inputs!;
}

const isPost = (r: SeenRequest) => r.method === "POST";

describe("AoProcess create through faults", () => {
  it("a messenger that accepts the spawn but drops the reply: the retry finds it, one process", async () => {
    let posts = 0;
    const mu = await proxy(net.urls.mu, (r) => (isPost(r) && ++posts === 1 ? "drop-reply" : "pass"));
    const { id, outs } = await provider.create(inputs({ ...net.urls, mu: mu.url }));
    expect(await spawnsOf(net, outs!.deploymentId)).toEqual([id]);
    expect(mu.seen.filter(isPost)).toHaveLength(2); // the spawn once, then the Eval
  });

  it("a messenger that refuses the Eval once (503): retried, deployed", async () => {
    let posts = 0;
    const mu = await proxy(net.urls.mu, (r) => (isPost(r) && ++posts === 2 ? { status: 503 } : "pass"));
    const { id, outs } = await provider.create(inputs({ ...net.urls, mu: mu.url }));
    expect(await spawnsOf(net, outs!.deploymentId)).toEqual([id]);
  });

  it("a compute unit answering 502 to its first requests: retried, deployed", async () => {
    const cu = await proxy(net.urls.cu, (r) => (r.n <= 2 ? { status: 502 } : "pass"));
    const { outs } = await provider.create(inputs({ ...net.urls, cu: cu.url }));
    expect(outs!.codeSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(cu.seen.length).toBeGreaterThan(2);
  });
});

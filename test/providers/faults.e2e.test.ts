/**
 * Retries and no duplicates, through a fault-injecting proxy in front of the local network's units:
 * a messenger that accepts the spawn but drops the reply, a messenger that refuses the Eval once, and
 * a compute unit answering 5xx. Every create must end with exactly one process.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkInputs, Provider } from "../../providers/aoProcess";
import { sha256Hex } from "../../providers/hash";
import type { Inputs } from "../../providers/types";
import { type Devnet, withDevnet } from "../support/devnet";
import { testWallet } from "../support/wallets";
import { type Fault, type SeenRequest, startFaultProxy } from "./support/faultProxy";
import { infoTags, networkInputs, spawnsOf } from "./support/network";

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

/** The inputs for the local network, with one unit reached through a proxy. */
function inputs(through: Partial<Record<"mu" | "cu", string>>): Inputs {
  const base = networkInputs(net, "faults-e2e");
  const { inputs, failures } = checkInputs({
    ...base,
    code,
    endpoints: { ...(base.endpoints as object), ...through },
  });
  expect(failures).toEqual([]);
  return inputs!;
}

const isPost = (r: SeenRequest) => r.method === "POST";

describe("AoProcess create through faults", () => {
  it("a messenger that accepts the spawn but drops the reply: the retry finds it, one process", async () => {
    let posts = 0;
    const mu = await proxy(net.urls.mu, (r) => (isPost(r) && ++posts === 1 ? "drop-reply" : "pass"));
    const { id, outs } = await provider.create(inputs({ mu: mu.url }));
    expect(await spawnsOf(net, outs!.deploymentId)).toEqual([id]);
    expect(mu.seen.filter(isPost)).toHaveLength(2); // the spawn once, then the Eval
  });

  it("a messenger that refuses the Eval once (503): retried, deployed", async () => {
    let posts = 0;
    const mu = await proxy(net.urls.mu, (r) => (isPost(r) && ++posts === 2 ? { status: 503 } : "pass"));
    const { id, outs } = await provider.create(inputs({ mu: mu.url }));
    expect(await spawnsOf(net, outs!.deploymentId)).toEqual([id]);
  });

  it("a compute unit answering 502 to its first requests: retried, deployed", async () => {
    const cu = await proxy(net.urls.cu, (r) => (r.n <= 2 ? { status: 502 } : "pass"));
    const { id, outs } = await provider.create(inputs({ cu: cu.url }));
    expect(cu.seen.length).toBeGreaterThan(2);
    // What the process itself reports (a dry-run straight to the network), not what check computed.
    expect((await infoTags(net, deployer, id))["Code-Sha256"]).toBe(sha256Hex(code));
    expect(outs!.codeSha256).toBe(sha256Hex(code));
  });
});

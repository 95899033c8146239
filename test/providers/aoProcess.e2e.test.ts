/**
 * The AoProcess provider against the local AO network, with the real aoconnect: create, read, update
 * under eval, replacement, adoption, Eval errors, and the resume path after a failure past the spawn,
 * in both modes (legacy units, and the mainnet front door: HyperBEAM's routes).
 * The provider is called directly here; the dynamic-provider host (serialization) is tested elsewhere.
 */
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAoClient } from "../../providers/aoClient";
import { checkInputs, Provider } from "../../providers/aoProcess";
import { wrapWithFooter } from "../../providers/footer";
import type { Inputs, Outputs } from "../../providers/types";
import { type Devnet, withDevnet } from "../support/devnet";
import { testWallet, walletInEnv } from "../support/wallets";
import { endpointsIn, infoTags, MODES, networkInputs, spawnsOf, spawnTagsOf } from "./support/network";

const ID43 = "P".repeat(43);

let net: Devnet & { cleanup(): Promise<void> };
const deployer = testWallet("aoprocess-deployer");
const provider = new Provider();
let restoreEnv: () => void;

beforeAll(async () => {
  net = await withDevnet();
  restoreEnv = walletInEnv(deployer.jwk);
});
afterAll(async () => {
  await net?.cleanup();
  restoreEnv?.();
});

/** Small process code that opts in to the proof of code and reports its version. */
const versioned = (version: number) => `Version = ${version}
Handlers.add("Info", "Info", function(msg)
  msg.reply({ Tags = { ["Code-Sha256"] = DeployedCode and DeployedCode.Sha256 or "", Version = tostring(Version) } })
end)`;

describe.each(MODES)("AoProcess provider on the local AO network (%s)", (mode) => {
  let first: Outputs;
  const client = () => createAoClient(endpointsIn(net, mode), deployer.jwk);
  function checked(patch: Record<string, unknown>): Inputs {
    const { inputs, failures } = checkInputs({ ...networkInputs(net, "aoprocess-e2e", mode), ...patch });
    expect(failures).toEqual([]);
    return inputs!;
  }

  it("creates: spawns, Evals the code with the footer, verifies the hash, and outputs the process", async () => {
    const inputs = checked({ code: versioned(1) });
    const { id, outs } = await provider.create(inputs);
    first = outs!;
    expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(outs).toMatchObject({
      processId: id,
      codeSha256: inputs.codeSha256,
      module: net.moduleId,
      scheduler: net.schedulerId,
      owner: deployer.address,
    });
    // What sending the Eval answered: a message ID on the legacy network, a slot on mainnet.
    if (mode === "mainnet") expect(outs).toMatchObject({ evalSlot: 1, endpoints: { network: "mainnet" } });
    else expect(outs!.evalMessageId).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Number.isNaN(Date.parse(outs!.deployedAt))).toBe(false);
    expect(await infoTags(net, deployer, id)).toMatchObject({
      "Code-Sha256": inputs.codeSha256,
      Version: "1",
    });
    expect(await spawnsOf(net, outs!.deploymentId)).toEqual([id]);
  });

  it("deploys the real registry bundle from its entry file", async () => {
    const { bundleLua } = await import("../../providers/bundle");
    const code = bundleLua(path.join(__dirname, "..", "..", "ao-process", "registry.lua")).code;
    const { outs } = await provider.create(checked({ code, name: "registry-e2e" }));
    expect((await infoTags(net, deployer, outs!.processId))["Code-Sha256"]).toBe(outs!.codeSha256);
  });

  it("reads: no drift while the process runs the recorded code, drift when someone Evals other code", async () => {
    const same = await provider.read(first.processId, first);
    expect(same.props?.codeSha256).toBe(first.codeSha256);
    const other = "f".repeat(64);
    const id = await client().message({
      process: first.processId,
      tags: [{ name: "Action", value: "Eval" }],
      data: wrapWithFooter("local x = 1", { sha256: other, deploymentId: "by-hand" }),
    });
    await client().result({ process: first.processId, message: id });
    const drifted = await provider.read(first.processId, first);
    expect(drifted.props?.codeSha256).toBe(other);
  });

  it("updates under eval: the new code runs in the same process", async () => {
    const news = checked({ code: versioned(2), upgrade: "eval" });
    const d = await provider.diff(first.processId, first, news);
    expect(d).toMatchObject({ changes: true, replaces: [] });
    const { outs } = await provider.update(first.processId, first, news);
    expect(outs).toMatchObject({ processId: first.processId, codeSha256: news.codeSha256 });
    expect(await infoTags(net, deployer, first.processId)).toMatchObject({
      "Code-Sha256": news.codeSha256,
      Version: "2",
    });
  });

  it("a comment or layout change under replace: loaded into the same process, its proof of code updated", async () => {
    const current = checked({ code: versioned(2), upgrade: "eval" });
    const olds = { ...first, codeSha256: current.codeSha256, programSha256: current.programSha256 };
    const news = checked({ code: `-- a comment, and new layout\n${versioned(2).replace(/\n/g, "\n\n  ")}` });
    expect(news.codeSha256).not.toBe(current.codeSha256);
    expect(await provider.diff(first.processId, olds, news)).toMatchObject({ changes: true, replaces: [] });
    const { outs } = await provider.update(first.processId, olds, news);
    expect(outs).toMatchObject({
      processId: first.processId,
      codeSha256: news.codeSha256,
      programSha256: news.programSha256,
    });
    // Code-Sha256 proves the new text; the process kept its state (Version set by the code it runs).
    expect(await infoTags(net, deployer, first.processId)).toMatchObject({
      "Code-Sha256": news.codeSha256,
      Version: "2",
    });
  });

  it("replaces under replace: a code change spawns a new process and the old one keeps running", async () => {
    const news = checked({ code: versioned(3) });
    expect((await provider.diff(first.processId, first, news)).replaces).toEqual(["code"]);
    const { id } = await provider.create(news);
    expect(id).not.toBe(first.processId);
    expect((await infoTags(net, deployer, id)).Version).toBe("3");
    expect((await infoTags(net, deployer, first.processId)).Version).toBe("2");
    await provider.delete(first.processId); // a documented no-op
    expect((await infoTags(net, deployer, first.processId)).Version).toBe("2");
  });

  it("adopts an existing process instead of spawning", async () => {
    const existing = await client()
      .spawner({
        module: net.moduleId,
        scheduler: net.schedulerId,
        authority: net.authority,
        tags: [{ name: "Name", value: "by-hand" }],
      })
      .send();
    const { id, outs } = await provider.create(checked({ code: versioned(4), adoptProcessId: existing }));
    expect(id).toBe(existing);
    expect(outs).toMatchObject({ processId: existing, adoptProcessId: existing });
    expect((await infoTags(net, deployer, existing)).Version).toBe("4");
  });

  it("fails the create on a runtime error with the Lua message, reports the process, and resumes via update", async () => {
    const broken = checked({ code: 'Version = 5\nerror("boom while loading")' });
    const err = await provider.create(broken).catch((e) => e);
    expect(err.name).toBe("DeployInitError");
    expect(err.message).toContain("boom while loading");
    expect(err.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(err.properties).toMatchObject({ processId: err.id, codeSha256: broken.codeSha256 });

    // The engine calls update with the recorded properties: it finishes the pipeline in that process.
    const fixed = checked({ code: versioned(5) });
    const { outs } = await provider.update(err.id, err.properties, fixed);
    expect(outs).toMatchObject({ processId: err.id, codeSha256: fixed.codeSha256 });
    expect(await spawnsOf(net, err.properties.deploymentId)).toEqual([err.id]);
    expect((await infoTags(net, deployer, err.id)).Version).toBe("5");
  });

  it("fails the create on a syntax error aos reports, with the Lua message", async () => {
    // check would refuse this code; the create must still never succeed silently.
    const inputs = { ...checked({ code: "return 1" }), code: "x = = 1" };
    const err = await provider.create(inputs).catch((e) => e);
    expect(err.name).toBe("DeployInitError");
    expect(err.message).toMatch(/Eval of the code failed .*unexpected symbol/s);
  });

  it("never puts key material into outputs or errors", async () => {
    const err = await provider.create(checked({ code: 'error("x")' })).catch((e) => e);
    const text = JSON.stringify({ first, message: err.message, props: err.properties });
    for (const k of ["d", "p", "q", "dp", "dq", "qi"] as const) {
      expect(text).not.toContain((deployer.jwk as unknown as Record<string, string>)[k]);
    }
  });
});

describe("AoProcess provider on AO mainnet: what aoconnect's mainnet mode would otherwise change", () => {
  const mainnet = () => {
    const { inputs, failures } = checkInputs({
      ...networkInputs(net, "aoprocess-env", "mainnet"),
      code: versioned(7),
    });
    expect(failures).toEqual([]);
    return inputs!;
  };

  it.each(["MODULE", "AUTHORITY"])(
    "refuses to run with %s in its environment (aoconnect's spawn would take it over the stack's)",
    async (name) => {
      process.env[name] = net.moduleId;
      try {
        const err = await provider.create(mainnet()).catch((e) => e);
        expect(err.name).toBe("OverridingEnvError");
        expect(err.message).toContain(`${name} is set in the environment`);
        expect(err.message).toContain(`env -u ${name}`);
        const read = await provider.read(ID43, { ...mainnet(), processId: ID43 } as never).catch((e) => e);
        expect(read.name).toBe("OverridingEnvError");
      } finally {
        delete process.env[name];
      }
    },
  );

  it("stops before any spawn when the node reports another address than the pinned authority", async () => {
    const pinned = "A".repeat(43);
    const err = await provider
      .create({ ...mainnet(), authority: pinned, name: "authority-mismatch" })
      .catch((e) => e);
    expect(err.name).toBe("AuthorityMismatch");
    expect(err.message).toContain(
      `node ${net.urls.node} reports address ${net.authority}, but the stack pins authority ${pinned}`,
    );
    expect(err.message).toContain(`pulumi config set aoRegistry:authority ${net.authority}`);
    expect(err.initFailed ?? err.id).toBeUndefined(); // no process: not an init error
  });

  it("spawns with the pinned authority, not the scheduler aoconnect would default to", async () => {
    const { id } = await provider.create(mainnet());
    const tags = await spawnTagsOf(net, id);
    expect(tags.Authority).toBe(net.authority);
    expect(tags.Scheduler).toBe(net.schedulerId);
    expect(tags.Module).toBe(net.moduleId);
  });
});

/**
 * State written by release 0.1.0 (test/providers/fixtures/release-0.1.0-state.json: the whole provider
 * serialized by value in `__provider`, the adoption input `processId` and output `adoptedProcessId`)
 * goes on working after the upgrade to the shim, through Pulumi's real dynamic-provider host on a local
 * network. The release's provider itself writes the state here (its create, as recorded in the
 * fixture), and then the engine's calls follow: Read and Delete run the `__provider` stored in the
 * state, Check, Diff, Create and Update the new program's shim.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DynamicHost, dynamicUrn, startDynamicHost } from "../../scripts/lib/dynamicHost";
import { aoClient, type Devnet, withDevnet } from "../support/devnet";
import { NO_ENV_WALLET, testWallet } from "../support/wallets";
import { infoTags, networkInputs, spawnsOf } from "./support/network";
import { type SerializedProvider, serializeProviderInChild } from "./support/serializedProvider";

type Props = Record<string, unknown>;
interface Recorded {
  provider: string;
  plain: { inputs: Props; outputs: Props };
  adopted: { inputs: Props; outputs: Props };
}
const release = JSON.parse(
  readFileSync(path.join(__dirname, "fixtures", "release-0.1.0-state.json"), "utf8"),
) as Recorded;
const deployer = testWallet("aoprocess-deployer");
const urn = (name: string) => dynamicUrn(name, { module: "ao", type: "AoProcess" });
const code = (version: number) => `Version = ${version}
Handlers.add("Info", "Info", function(msg)
  msg.reply({ Tags = { ["Code-Sha256"] = DeployedCode and DeployedCode.Sha256 or "", Version = tostring(Version) } })
end)`;

let net: Devnet & { cleanup(): Promise<void> };
let host: DynamicHost;
let shim: SerializedProvider;

beforeAll(async () => {
  shim = serializeProviderInChild();
  net = await withDevnet();
  host = await startDynamicHost({
    env: { ...NO_ENV_WALLET, AO_WALLET_JWK: JSON.stringify(deployer.jwk) },
  });
  await host.configure({});
}, 180_000);
afterAll(async () => {
  await host?.stop();
  await net?.cleanup();
});

/** The program's inputs for `name` with the given provider text (the release's or the shim). */
const programInputs = (name: string, provider: string, patch: Props = {}): Props => ({
  ...networkInputs(net, name),
  code: code(1),
  ...patch,
  __provider: provider,
});

const keys = (o: Props) => Object.keys(o).sort();
const withoutProvider = ({ __provider: _, ...rest }: Props) => rest;

/** A resource as release 0.1.0 left it: checked and created by the release's serialized provider. */
async function releaseState(name: string, patch: Props = {}) {
  const { inputs, failures } = await host.check(urn(name), {}, programInputs(name, release.provider, patch));
  expect(failures).toEqual([]);
  const created = await host.create(urn(name), inputs);
  return { id: created.id, inputs, outputs: created.properties };
}

describe("state from release 0.1.0, run by the new provider", () => {
  let plain: Awaited<ReturnType<typeof releaseState>>;
  let adopted: Awaited<ReturnType<typeof releaseState>>;
  let byHand: string;

  it("is the state the fixture records: the release's provider writes it", async () => {
    plain = await releaseState("release-plain");
    byHand = await aoClient(net, deployer.jwk).spawnWithCode(net, "Version = 0");
    adopted = await releaseState("release-adopted", { processId: byHand });
    expect(plain.outputs.__provider).toBe(release.provider);
    expect(keys(withoutProvider(plain.outputs))).toEqual(keys(release.plain.outputs));
    expect(keys(withoutProvider(adopted.outputs))).toEqual(keys(release.adopted.outputs));
    expect(adopted.outputs).toMatchObject({ processId: byHand, adoptedProcessId: byHand });
    expect(adopted.inputs.processId).toBe(byHand);
  });

  it("refreshes: Read runs the provider stored in the state, and the new provider reads that state too", async () => {
    for (const r of [plain, adopted]) {
      expect((await host.read(urn("r"), r.id, r.outputs, r.inputs)).properties).toEqual(r.outputs);
      const withShim = { ...r.outputs, __provider: shim.text };
      expect((await host.read(urn("r"), r.id, withShim, r.inputs)).properties).toEqual(withShim);
    }
  });

  it("diffs the same program against it as no change, the adoption under its new name included", async () => {
    const same = await host.check(
      urn("release-plain"),
      plain.inputs,
      programInputs("release-plain", shim.text),
    );
    expect(
      await host.diff(urn("release-plain"), plain.id, plain.outputs, same.inputs, plain.inputs),
    ).toMatchObject({
      changes: "none",
    });
    for (const patch of [{ adoptProcessId: byHand }, {}]) {
      const news = await host.check(
        urn("a"),
        adopted.inputs,
        programInputs("release-adopted", shim.text, patch),
      );
      expect(
        await host.diff(urn("a"), adopted.id, adopted.outputs, news.inputs, adopted.inputs),
      ).toMatchObject({
        changes: "none",
      });
    }
  });

  it("updates with the code unchanged: nothing sent to AO, the state rewritten in the new shape", async () => {
    const news = await host.check(
      urn("a"),
      adopted.inputs,
      programInputs("release-adopted", shim.text, { adoptProcessId: byHand }),
    );
    const res = await host.update(urn("a"), adopted.id, adopted.outputs, news.inputs, adopted.inputs);
    const { adoptedProcessId: _, ...kept } = adopted.outputs;
    // Release 0.1.0 had no stateTransfer: the new state records the default (off).
    expect(res.properties).toEqual({
      ...kept,
      adoptProcessId: byHand,
      stateTransfer: false,
      // Release 0.1.0 had no program hash: the new state records it (same text, so no change of process).
      programSha256: news.inputs.programSha256,
      __provider: shim.text,
    });
    expect((await infoTags(net, deployer, byHand)).Version).toBe("1");
    // The new state refreshes through the shim.
    expect((await host.read(urn("a"), adopted.id, res.properties, news.inputs)).properties).toEqual(
      res.properties,
    );
  });

  it("replaces on a code change with the new provider, then Delete runs the release's provider: a no-op", async () => {
    const news = await host.check(
      urn("release-plain"),
      plain.inputs,
      programInputs("release-plain", shim.text, { code: code(2) }),
    );
    expect(
      await host.diff(urn("release-plain"), plain.id, plain.outputs, news.inputs, plain.inputs),
    ).toMatchObject({
      changes: "some",
      replaces: ["code"],
    });
    const next = await host.create(urn("release-plain"), news.inputs);
    expect(next.id).not.toBe(plain.id);
    expect(next.properties).toMatchObject({ __provider: shim.text, codeSha256: news.inputs.codeSha256 });
    expect(await spawnsOf(net, String(next.properties.deploymentId))).toEqual([next.id]);

    await host.delete(urn("release-plain"), plain.id, plain.outputs, plain.inputs);
    await host.waitForLog(new RegExp(`process ${plain.id} .*cannot be destroyed`));
    expect((await infoTags(net, deployer, plain.id)).Version).toBe("1");
    expect((await infoTags(net, deployer, next.id)).Version).toBe("2");
  });
});

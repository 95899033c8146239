/**
 * The AoProcess provider's costs, each beside a baseline measured in the same run:
 *
 * - what `pulumi preview` pays for registry.lua: serializing the provider and bundling in the program,
 *   then check (validation, Lua 5.3 compile, sha256) and diff, in process and through Pulumi's real
 *   dynamic-provider host over gRPC;
 * - what a create costs on the local AO network through that host, against the same AO calls (spawn,
 *   wait, Eval, result, dry-run) made directly with aoconnect in this script. Target: under 10% more.
 *
 *   npm run bench -- provider
 */
import { randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import * as path from "node:path";
import { startDevnet } from "../devnet";
import { checkInputs, Provider } from "../providers/aoProcess";
import { DEPLOYMENT_ID_TAG } from "../providers/aoValues";
import { bundleLua } from "../providers/bundle";
import { diff } from "../providers/diff";
import { wrapWithFooter } from "../providers/footer";
import { sha256Hex } from "../providers/hash";
import { findTag } from "../providers/pipeline";
import type { Inputs, Outputs } from "../providers/types";
import { type DynamicHost, dynamicUrn, secret, startDynamicHost, toWire } from "../scripts/lib/dynamicHost";
import { networkInputs } from "../test/providers/support/network";
import { serializeProviderInChild } from "../test/providers/support/serializedProvider";
import { aoClient, tempDataDir } from "../test/support/devnet";
import { NO_ENV_WALLET, testWallet } from "../test/support/wallets";
import { figure, median, section, timed } from "./report";

const ENTRY = path.join(__dirname, "..", "ao-process", "registry.lua");
const urn = (name: string) => dynamicUrn(name, { module: "ao", type: "AoProcess" });
const ID = (c: string) => c.repeat(43);

async function medianOf(runs: number, fn: () => Promise<unknown> | unknown): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push((await timed(async () => fn()))[0]);
  return median(times);
}

/**
 * The harness's own share of a call: encoding the request's properties and decoding the answer's with
 * the SDK's JavaScript protobuf, which the Pulumi engine does natively in Go (well under a millisecond).
 */
function harnessMarshalMs(request: Record<string, unknown>[], answer: Record<string, unknown>[]): number {
  // biome-ignore lint/suspicious/noExplicitAny: generated protobuf module
  const structproto: any = require("google-protobuf/google/protobuf/struct_pb");
  const answers = answer.map((a) => structproto.Struct.fromJavaScript(toWire(a)).serializeBinary());
  const once = () => {
    for (const r of request) structproto.Struct.fromJavaScript(toWire(r)).serializeBinary();
    for (const bytes of answers) structproto.Struct.deserializeBinary(bytes).toJavaScript();
  };
  for (let i = 0; i < 5; i++) once();
  return medianOfSync(20, once);
}

function medianOfSync(runs: number, fn: () => void): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  return median(times);
}

/** A new host, configured with the wallet as the stack secret `aoRegistry:wallet`. */
async function configuredHost(walletJson: string, moduleId: string): Promise<DynamicHost> {
  const host = await startDynamicHost({ env: NO_ENV_WALLET });
  await host.configure({ "aoRegistry:module": moduleId, "aoRegistry:wallet": secret(walletJson) });
  return host;
}

async function preview(providerText: string, serializeMs: number): Promise<void> {
  const bundle = bundleLua(ENTRY);
  section(
    `AoProcess check + diff, what \`pulumi preview\` pays: registry.lua bundled (${(bundle.code.length / 1024).toFixed(0)} KiB, ${bundle.modules.length} modules)`,
  );
  const news = {
    code: bundle.code,
    module: ID("m"),
    scheduler: ID("s"),
    name: "registry",
    tags: { "App-Name": "Agent-Skills-Registry" },
    endpoints: { mu: "http://127.0.0.1:1", cu: "http://127.0.0.1:1", gateway: "http://127.0.0.1:1" },
  };
  const checked = checkInputs(news).inputs!;
  const olds: Outputs = {
    ...checked,
    processId: ID("p"),
    evalMessageId: ID("e"),
    owner: ID("o"),
    deployedAt: new Date().toISOString(),
    deploymentId: "bench",
  };
  const RUNS = 20;
  const bundleMs = await medianOf(RUNS, () => bundleLua(ENTRY));
  const hashMs = await medianOf(RUNS, () => sha256Hex(bundle.code));
  const checkMs = await medianOf(RUNS, () => checkInputs(news));
  const diffMs = await medianOf(RUNS, () => diff(olds, checked));
  const inProcess = await medianOf(RUNS, () =>
    diff(olds, checkInputs({ ...news, code: bundleLua(ENTRY).code }).inputs!),
  );
  figure("serialize the provider (program, once per run)", serializeMs, "ms");
  figure("bundle registry.lua (program, at declaration)", bundleMs, "ms");
  figure("check: validate + Lua 5.3 compile + sha256", checkMs, "ms", {
    baseline: { name: "sha256 alone", value: hashMs },
  });
  figure("diff", diffMs, "ms");
  figure("bundle + check + diff, in process", inProcess, "ms");

  const programNews = { ...news, __provider: providerText };
  const cold = await startDynamicHost();
  try {
    await cold.configure({});
    const [first] = await timed(async () => {
      const { inputs } = await cold.check(urn("registry"), {}, programNews);
      await cold.diff(urn("registry"), ID("p"), { ...olds, __provider: providerText }, inputs);
    });
    const warm = await medianOf(RUNS, async () => {
      const { inputs } = await cold.check(urn("registry"), {}, programNews);
      await cold.diff(urn("registry"), ID("p"), { ...olds, __provider: providerText }, inputs);
    });
    figure("check + diff through the gRPC host, warm (median of 20)", warm, "ms", {
      baseline: { name: "check + diff in process", value: checkMs + diffMs },
    });
    const { inputs: hostChecked } = await cold.check(urn("registry"), {}, programNews);
    const marshal = harnessMarshalMs(
      [programNews, { ...olds, __provider: providerText }, hostChecked],
      [hostChecked],
    );
    figure("  of which this harness's protobuf work (Go in the engine)", marshal, "ms");
    figure("check + diff through the host, as the engine would pay", warm - marshal, "ms", {
      baseline: { name: "check + diff in process", value: checkMs + diffMs },
    });
    figure("check + diff, first in a fresh host (loads the provider)", first, "ms", {
      baseline: { name: "warm", value: warm },
    });
  } finally {
    await cold.stop();
  }
}

async function create(providerText: string): Promise<void> {
  section("AoProcess create on the local AO network (registry.lua): the provider vs aoconnect alone");
  const dataDir = tempDataDir("bench-provider-");
  const net = await startDevnet({ port: 0, dataDir, maxLive: 64 });
  const deployer = testWallet("aoprocess-deployer");
  const walletJson = JSON.stringify(deployer.jwk);
  const host = await configuredHost(walletJson, net.moduleId);
  try {
    const raw = { code: bundleLua(ENTRY).code, ...networkInputs(net, "bench-registry") };
    const inputs = checkInputs(raw).inputs as Inputs;
    const { inputs: hostInputs } = await host.check(
      urn("registry"),
      {},
      { ...raw, __provider: providerText },
    );

    // The same AO calls the provider makes, in this script: one signer, the same tags, data and checks.
    const ao = aoClient(net, deployer.jwk);
    const direct = async () => {
      const deploymentId = randomUUID();
      const processId = await ao.spawn({
        module: inputs.module,
        scheduler: inputs.scheduler,
        signer: ao.signer,
        tags: [
          { name: "Name", value: inputs.name },
          { name: "Authority", value: net.authority },
          { name: DEPLOYMENT_ID_TAG, value: deploymentId },
          ...inputs.tags,
        ],
      });
      for (let delay = 250; ; delay *= 2) {
        try {
          await ao.dryrun({
            process: processId,
            tags: [{ name: "Action", value: "Ping" }],
            Owner: deployer.address,
          });
          break;
        } catch (e) {
          if (!/not found|does not exist/i.test(String((e as Error).message))) throw e;
          await new Promise((r) => setTimeout(r, delay));
        }
      }
      const evalId = await ao.message({
        process: processId,
        signer: ao.signer,
        tags: [{ name: "Action", value: "Eval" }],
        data: wrapWithFooter(inputs.code, { sha256: inputs.codeSha256, deploymentId }),
      });
      const result = await ao.result({ process: processId, message: evalId });
      if (result.Error) throw new Error(`Eval failed: ${JSON.stringify(result.Error)}`);
      const info = await ao.dryrun({
        process: processId,
        tags: [{ name: "Action", value: "Info" }],
        data: "{}",
        Owner: deployer.address,
      });
      if (findTag(info, "Code-Sha256") !== inputs.codeSha256) throw new Error("dry-run: wrong Code-Sha256");
    };

    const provider = new Provider();
    await provider.configure({
      config: { get: (k) => (k === "wallet" ? walletJson : undefined), require: () => "" },
    });
    // pulumi.log prints to stdout outside an engine: keep the report readable while it runs in process.
    const inProcess = async () => {
      const log = console.log;
      console.log = () => {};
      try {
        await provider.create(inputs);
      } finally {
        console.log = log;
      }
    };
    const viaHost = async () => {
      await host.create(urn("registry"), hostInputs);
    };

    // First calls: aoconnect and the signer load in each path, the module's first instance warms up.
    const [firstDirect] = await timed(direct);
    const [firstInProcess] = await timed(inProcess);
    const [firstHost] = await timed(viaHost);
    // Two more each before measuring: the host runs its own copy of aoconnect, whose JIT warms up apart
    // from this script's. What the first calls cost is reported above, as its own figure.
    for (let i = 0; i < 2; i++) for (const f of [direct, inProcess, viaHost]) await f();

    const RUNS = 11;
    const times = { direct: [] as number[], inProcess: [] as number[], host: [] as number[] };
    const order = ["direct", "inProcess", "host"] as const;
    const fns = { direct, inProcess, host: viaHost };
    for (let i = 0; i < RUNS; i++) {
      // Rotated each round, so that no path always runs first after a pause.
      for (let j = 0; j < order.length; j++) {
        const which = order[(i + j) % order.length]!;
        times[which].push((await timed(fns[which]))[0]);
      }
    }
    const d = median(times.direct);
    const p = median(times.inProcess);
    const h = median(times.host);
    figure(`direct aoconnect: spawn, wait, Eval, result, dry-run (median of ${RUNS})`, d, "ms");
    figure(`provider.create in process (median of ${RUNS})`, p, "ms", {
      baseline: { name: "direct", value: d },
    });
    figure(`create through the gRPC host (median of ${RUNS})`, h, "ms", {
      baseline: { name: "direct", value: d },
    });
    figure("create through the gRPC host / direct aoconnect", h / d, "x");
    const { properties: answer } = await host.create(urn("registry"), hostInputs);
    const marshal = harnessMarshalMs([hostInputs], [answer]);
    figure("  of which this harness's protobuf work (Go in the engine)", marshal, "ms");
    figure("create through the host, as the engine would pay / direct", (h - marshal) / d, "x", {
      target: { max: 1.1, unit: "x" },
    });
    figure("first create through a fresh host (loads aoconnect)", firstHost, "ms", {
      baseline: { name: "first direct call", value: firstDirect },
    });
    figure("first provider.create in process", firstInProcess, "ms", {
      baseline: { name: "first direct call", value: firstDirect },
    });
  } finally {
    await host.stop();
    await net.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function run(): Promise<void> {
  // The program's side: the provider serialized as the SDK does it, in a plain Node child.
  const serialized = serializeProviderInChild();
  await preview(serialized.text, serialized.ms);
  await create(serialized.text);
}

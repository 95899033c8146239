/**
 * AO mainnet mode beside legacy mode, in the same run, on the same local network (one scheduler, compute
 * unit and persistence behind two front doors: HyperBEAM's routes and the legacy units):
 *
 * - deploy latency: the AoProcess provider's create (spawn, wait, Eval, result, hash-verifying dry-run),
 *   in process, with the unmodified aoconnect in each mode; the modes alternate, medians of each;
 * - message + result throughput: a signed message then its result, one after another, and 8 at a
 *   time, through the provider's own AoClient (message IDs on legacy, slots on mainnet).
 *
 * Mainnet mode signs every call, reads included (a key made for the run), and its results are read by
 * slot; what that costs is what these figures show. A real HyperBEAM node's latency is not this.
 *
 *   npm run bench -- mainnet
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDevnet } from "../devnet";
import { createAoClient } from "../providers/aoClient";
import { checkInputs, Provider } from "../providers/aoProcess";
import type { Endpoints } from "../providers/types";
import { testWallet, walletInEnv } from "../test/support/wallets";
import { figure, median, section, timed } from "./report";

const CODE = `N = N or 0
Handlers.add("Info", "Info", function(msg)
  msg.reply({ Tags = { ["Code-Sha256"] = DeployedCode and DeployedCode.Sha256 or "" } })
end)
Handlers.add("bump", "Bump", function(msg) N = N + 1; msg.reply({ Data = tostring(N) }) end)`;

const DEPLOYS = 5;
const SEQUENTIAL = 40;
const CONCURRENT = { width: 8, rounds: 5 };

type Mode = "legacy" | "mainnet";

export async function run(): Promise<void> {
  section("AO mainnet mode beside legacy mode (same local network, unmodified aoconnect)");
  const dataDir = mkdtempSync(join(tmpdir(), "bench-mainnet-"));
  const net = await startDevnet({ port: 0, dataDir });
  const wallet = testWallet("bench-mainnet");
  const restoreEnv = walletInEnv(wallet.jwk);
  const endpoints: Record<Mode, Endpoints> = {
    legacy: { mu: net.urls.mu, cu: net.urls.cu, gateway: net.urls.gateway },
    mainnet: { network: "mainnet", node: net.urls.node! },
  };
  try {
    const provider = new Provider();
    const deploy = async (mode: Mode, i: number) => {
      const { inputs, failures } = checkInputs({
        code: CODE,
        module: net.moduleId,
        scheduler: net.schedulerId,
        authority: net.authority,
        name: `bench-${mode}-${i}`,
        endpoints: endpoints[mode],
      });
      if (failures.length) throw new Error(JSON.stringify(failures));
      return timed(() => provider.create(inputs!));
    };
    // One warm-up each (module load, first signer, the run's read key), then alternating runs.
    const processes: Record<Mode, string> = {
      legacy: (await deploy("legacy", 0))[1].id,
      mainnet: (await deploy("mainnet", 0))[1].id,
    };
    const ms: Record<Mode, number[]> = { legacy: [], mainnet: [] };
    for (let i = 1; i <= DEPLOYS; i++)
      for (const mode of ["legacy", "mainnet"] as const) ms[mode].push((await deploy(mode, i))[0]);
    figure("deploy (provider create), legacy mode, median", median(ms.legacy), "ms");
    figure("deploy (provider create), mainnet mode, median", median(ms.mainnet), "ms", {
      baseline: { name: "legacy", value: median(ms.legacy) },
    });

    const roundTrip = (mode: Mode) => {
      const client = createAoClient(endpoints[mode], wallet.jwk);
      return async () => {
        const message = await client.message({
          process: processes[mode],
          tags: [{ name: "Action", value: "Bump" }],
        });
        const r = await client.result({ process: processes[mode], message });
        if (r.Error) throw new Error(String(r.Error));
      };
    };
    const sequential: Record<Mode, number> = { legacy: 0, mainnet: 0 };
    const concurrent: Record<Mode, number> = { legacy: 0, mainnet: 0 };
    for (const mode of ["legacy", "mainnet"] as const) {
      const one = roundTrip(mode);
      const [t] = await timed(async () => {
        for (let i = 0; i < SEQUENTIAL; i++) await one();
      });
      sequential[mode] = SEQUENTIAL / (t / 1000);
      const [c] = await timed(async () => {
        for (let r = 0; r < CONCURRENT.rounds; r++)
          await Promise.all(Array.from({ length: CONCURRENT.width }, () => one()));
      });
      concurrent[mode] = (CONCURRENT.width * CONCURRENT.rounds) / (c / 1000);
    }
    figure("message + result, one at a time, legacy mode", sequential.legacy, "msg/s");
    figure("message + result, one at a time, mainnet mode", sequential.mainnet, "msg/s", {
      baseline: { name: "legacy", value: sequential.legacy },
    });
    figure(`message + result, ${CONCURRENT.width} at a time, legacy mode`, concurrent.legacy, "msg/s");
    figure(`message + result, ${CONCURRENT.width} at a time, mainnet mode`, concurrent.mainnet, "msg/s", {
      baseline: { name: "legacy", value: concurrent.legacy },
    });
  } finally {
    restoreEnv();
    await net.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

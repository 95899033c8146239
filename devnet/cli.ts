import { parseArgs } from "node:util";
import { DEVNET_OPTIONS } from "./cliOptions";
import { KEY_LAYOUTS, type KeyLayout } from "./dataDir";
import { DEFAULT_COMPUTE_DEADLINE_MS, MAINNET_SCHEDULER, startDevnet } from "./index";
import { memory64Problem } from "./nodeVersions.cjs";

const USAGE = `Usage: npm run devnet -- [--port 4000] [--host 127.0.0.1] [--data .devnet-data] [--max-live 16]
                       [--compute-deadline-ms ${DEFAULT_COMPUTE_DEADLINE_MS}] [--keys distinct|shared]
                       [--foreign-schedulers ${MAINNET_SCHEDULER}] [--dry-run-instances 4]
                       [--dry-runs-per-peer 8] [--dry-runs-per-process 16]

Runs the local AO network (messenger, scheduler, compute unit, gateway, and AO mainnet's node routes) in
the foreground until SIGINT or SIGTERM. State lives under --data and survives restarts.
A message or dry-run that computes longer than --compute-deadline-ms (CPU time) is stopped: its result
carries an Error and the process's state stays as it was before it. Dry-runs run on instances of their
own (at most --dry-run-instances); past --dry-runs-per-peer in flight from one connecting address the
answer is a 429, past --dry-runs-per-process for one process a 503, both with Retry-After.
--keys: one key per role, as on AO (distinct: the node, the scheduler and the legacy messenger), or one
key for all three (shared). A new data directory takes it; an existing one keeps its own (one written
before role keys is shared).
--foreign-schedulers: comma-separated schedulers a mainnet spawn may name besides this network's own
(the real node forwards such a spawn; this network schedules it itself). Default: AO mainnet's, which
the aos CLI and ao-deploy name; "" refuses every other.`;

/** A flag that takes a positive whole number: its value, or an error naming the flag and the fix. */
function positive(name: string, value: string | undefined): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} ${value}: use a positive whole number`);
  return n;
}

async function main(): Promise<void> {
  const memory64 = memory64Problem(process.version, process.execArgv, "npm run devnet");
  if (memory64) throw new Error(memory64);
  const { values } = parseArgs({ options: DEVNET_OPTIONS });

  if (values.help) {
    console.log(USAGE);
    return;
  }
  const port = Number(values.port);
  const maxLive = Number(values["max-live"]);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--port ${values.port}: use a port number from 0 to 65535`);
  if (!Number.isInteger(maxLive) || maxLive < 1)
    throw new Error(`--max-live ${values["max-live"]}: use a positive integer`);
  const computeDeadlineMs = Number(values["compute-deadline-ms"]);
  if (!Number.isInteger(computeDeadlineMs) || computeDeadlineMs < 1)
    throw new Error(
      `--compute-deadline-ms ${values["compute-deadline-ms"]}: use a positive whole number of milliseconds`,
    );

  const keys = values.keys as KeyLayout | undefined;
  if (keys !== undefined && !KEY_LAYOUTS.includes(keys))
    throw new Error(`--keys ${values.keys}: use distinct (one key per role) or shared (one key for all)`);
  const foreignSchedulers = values["foreign-schedulers"]
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  const badScheduler = foreignSchedulers.find((s) => !/^[A-Za-z0-9_-]{43}$/.test(s));
  if (badScheduler)
    throw new Error(`--foreign-schedulers: ${JSON.stringify(badScheduler)} is not a 43-character address`);

  const instances = positive("dry-run-instances", values["dry-run-instances"]);
  const net = await startDevnet({
    port,
    host: values.host,
    dataDir: values.data,
    maxLive,
    computeDeadlineMs,
    ...(keys ? { keys } : {}),
    foreignSchedulers,
    dryRuns: {
      instances,
      instancesPerProcess: Math.min(2, instances),
      perPeer: positive("dry-runs-per-peer", values["dry-runs-per-peer"]),
      perProcess: positive("dry-runs-per-process", values["dry-runs-per-process"]),
    },
    log: (line) => console.error(`[devnet] ${line}`),
  });
  console.log(`local AO network ready
  messenger  ${net.urls.mu}
  compute    ${net.urls.cu}
  scheduler  ${net.urls.su}   (address ${net.schedulerId})
  gateway    ${net.urls.gateway}/graphql
  node       ${net.urls.node}   (AO mainnet's HyperBEAM routes: aoconnect's URL in MODE 'mainnet')
  node key   ${net.nodeAddress}   (GET /~meta@1.0/info/address: a mainnet process's Authority)
  messenger  ${net.authority}   (the legacy messenger's address: a legacy process's Authority)
  keys       ${net.keys === "shared" ? "one key for every role (shared)" : "one key per role (distinct)"}
  module     ${net.moduleId} (aos ${net.modules[0]!.aosVersion})
  data       ${net.dataDir}   (${net.networkFile})`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping, writing snapshots…`);
    net.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

main().catch((err: unknown) => {
  console.error(`devnet: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});

/**
 * `node [memory64 flags] --import tsx test/support/nodeSmoke.ts`: the local network's main path under
 * whichever Node.js runs it (test/devnet/node-versions.e2e.test.ts runs it under each one it is given).
 * Starts a network, then with the unmodified aoconnect: spawn, Eval a handler, a message to it, its
 * result, a dry-run. Prints one JSON line with what came back.
 */

import { aoClient, withDevnet } from "./devnet";
import { testWallet } from "./wallets";

async function main(): Promise<void> {
  const net = await withDevnet();
  try {
    const ao = aoClient(net, testWallet("alice").jwk);
    const code = `Handlers.add("ping", "Ping", function(m) m.reply({ Data = "pong " .. m.Data .. " " .. #string.rep("x", 64 * 1024 * 1024) }) end)`;
    const pid = await ao.spawnWithCode(net, code);
    const reply = await ao.send(pid, [{ name: "Action", value: "Ping" }], "message");
    const dry = await ao.dryrun({ process: pid, tags: [{ name: "Action", value: "Ping" }], data: "dry-run" });
    console.log(
      JSON.stringify({
        node: process.version,
        execArgv: process.execArgv,
        message: reply.Messages[0]?.Data ?? reply.Error,
        dryRun: dry.Messages[0]?.Data ?? dry.Error,
      }),
    );
  } finally {
    await net.cleanup();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);

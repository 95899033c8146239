/**
 * deploy:dev's local network and its port, with real networks started as `npm run devnet` would: a taken
 * port, a stopped network, an explicit port that is taken. No fixed port: the ports come from the kernel.
 */
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { AOS_MODULE_ID } from "../../devnet/modules";
import { describeNetwork, writeNetworkFile } from "../../devnet/networkFile";
import {
  ensureNetwork,
  networkAnswers,
  portTakenMessage,
  recordedPort,
} from "../../scripts/lib/localNetwork";
import { tempDataDir } from "../support/devnet";

const REPO = join(__dirname, "..", "..");
const started: number[] = [];

/** A TCP port held by "another program" that accepts and drops every connection (answers no HTTP). */
async function holdPort(): Promise<{ port: number; server: Server }> {
  const server = createServer((s) => s.destroy());
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { port: (server.address() as { port: number }).port, server };
}

function stop(pid: number): Promise<void> {
  process.kill(pid, "SIGTERM");
  return new Promise((resolve) => {
    const poll = setInterval(() => {
      try {
        process.kill(pid, 0);
      } catch {
        clearInterval(poll);
        resolve();
      }
    }, 100);
  });
}

afterAll(async () => {
  for (const pid of started) await stop(pid).catch(() => {});
});

describe("the local network's port", () => {
  it("a recorded port taken by another program: starts on a free one, says so, and records it", async () => {
    const dataDir = tempDataDir("port-taken-");
    const held = await holdPort();
    // A network that once ran here on the port another program now holds.
    writeNetworkFile(
      join(dataDir, "network.json"),
      describeNetwork(
        `http://127.0.0.1:${held.port}`,
        [{ id: AOS_MODULE_ID, aosVersion: "2.0.4" }],
        "L".repeat(43),
      ),
    );
    const lines: string[] = [];
    const net = await ensureNetwork({ repoRoot: REPO, dataDir, log: (l) => lines.push(l) });
    started.push(net.startedPid!);
    const port = recordedPort(net.info)!;
    expect(port).not.toBe(held.port);
    expect(lines.join("\n")).toContain(
      `port ${held.port} was in use by another program: the local AO network runs on port ${port} instead`,
    );
    held.server.close();
  }, 120_000);

  it("a stopped network restarts on the port it recorded, so the stack's endpoints stay the same", async () => {
    const dataDir = tempDataDir("port-restart-");
    const first = await ensureNetwork({ repoRoot: REPO, dataDir, port: 0, log: () => {} });
    const port = recordedPort(first.info);
    await stop(first.startedPid!);
    expect(await networkAnswers(first.info, 500)).toBe(false);
    const again = await ensureNetwork({ repoRoot: REPO, dataDir, log: () => {} });
    started.push(again.startedPid!);
    expect(again.startedPid).not.toBe(first.startedPid);
    expect(recordedPort(again.info)).toBe(port);
    expect(again.info.urls).toEqual(first.info.urls);
    // Asked for another port while it runs: one line, and the running network is left alone.
    await expect(ensureNetwork({ repoRoot: REPO, dataDir, port: port! + 1, log: () => {} })).rejects.toThrow(
      `--port ${port! + 1}: the local AO network of`,
    );
  }, 180_000);

  it("an explicit --port that is taken fails in one line naming an option deploy:dev accepts", async () => {
    const held = await holdPort();
    await expect(
      ensureNetwork({ repoRoot: REPO, dataDir: tempDataDir("port-asked-"), port: held.port, log: () => {} }),
    ).rejects.toThrow(portTakenMessage(held.port));
    held.server.close();
  });
});

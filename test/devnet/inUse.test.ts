import { rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDevnet } from "../../devnet";
import { alreadyRunningMessage, portInUseMessage } from "../../devnet/inUse";
import { type Devnet, tempDataDir, withDevnet } from "../support/devnet";

describe("the messages", () => {
  it("a data directory whose network runs: where, its pid, and what to do", () => {
    expect(alreadyRunningMessage("/tmp/d", { url: "http://127.0.0.1:4000", pid: 42 })).toMatch(
      /^the local AO network on \S*tmp\/d is already running \(http:\/\/127\.0\.0\.1:4000, pid 42\): use it as it is \(its URLs are in \S*network\.json\), or stop it first \(kill 42\)$/,
    );
  });

  it.each([
    [
      { kind: "another network", schedulerId: "abc" } as const,
      /another local AO network of this project \(scheduler abc, not the one on/,
    ],
    [
      { kind: "another program" } as const,
      /^port 4000 on 127.0.0.1 is in use by another program: start this one on another port \(--port 4001, or --port 0/,
    ],
  ])("a port in use: %j", (holder, expected) => {
    expect(portInUseMessage("127.0.0.1", 4000, "/tmp/d", holder)).toMatch(expected);
  });
});

describe("starting a network where one already runs", () => {
  let first: Devnet & { cleanup(): Promise<void> };
  let port: number;
  const dirs: string[] = [];
  const fresh = () => {
    const d = tempDataDir();
    dirs.push(d);
    return d;
  };
  beforeAll(async () => {
    first = await withDevnet();
    port = Number(new URL(first.urls.cu).port);
  });
  afterAll(async () => {
    await first?.cleanup();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("on its data directory: refused before any journal is touched, naming its pid and URL", async () => {
    await expect(startDevnet({ dataDir: first.dataDir, port: 0 })).rejects.toThrow(
      `already running (http://127.0.0.1:${port}, pid ${process.pid}): use it as it is`,
    );
  });

  it("on its port from another data directory: says it is this project's network, with its scheduler", async () => {
    await expect(startDevnet({ dataDir: fresh(), port })).rejects.toThrow(
      `port ${port} on 127.0.0.1 is in use by another local AO network of this project (scheduler ${first.schedulerId}`,
    );
  });

  it("on a port another program holds: says so, and how to pick another port", async () => {
    const other = createServer((_req, res) => res.end("not AO"));
    await new Promise<void>((ok) => other.listen(0, "127.0.0.1", ok));
    const taken = (other.address() as AddressInfo).port;
    try {
      await expect(startDevnet({ dataDir: fresh(), port: taken })).rejects.toThrow(
        `port ${taken} on 127.0.0.1 is in use by another program: start this one on another port`,
      );
    } finally {
      other.close();
    }
  });

  it("a stopped network's data directory starts again, its network.json notwithstanding", async () => {
    const dataDir = fresh();
    const a = await startDevnet({ dataDir, port: 0 });
    await a.stop();
    const b = await startDevnet({ dataDir, port: 0 });
    await b.stop();
    expect(b.schedulerId).toBe(a.schedulerId);
  });
});

import { execFileSync, spawn } from "node:child_process";
import { existsSync, realpathSync } from "node:fs";
import { delimiter, join } from "node:path";
import { describe, expect, it } from "vitest";
import { memory64Flags, parseVersion } from "../../devnet/nodeVersions.cjs";

/**
 * The local network's main path (test/support/nodeSmoke.ts) under this Node.js and under each one named
 * in TEST_NODE_BINARIES (paths joined by the platform's delimiter; .ci/run and the test workflow set it),
 * each with the flags the launcher gives that version. On CI both Node.js 22 and 24 must be among them.
 */
const SMOKE = join(__dirname, "..", "support", "nodeSmoke.ts");
const REQUIRED_ON_CI = [22, 24];
const given = (process.env.TEST_NODE_BINARIES ?? "").split(delimiter).filter(Boolean);

const versionOf = (bin: string) => execFileSync(bin, ["--version"], { encoding: "utf8" }).trim();
const nodes = [
  ...new Map(
    [process.execPath, ...given.filter((b) => existsSync(b))].map((bin) => [
      realpathSync(bin),
      { bin, version: versionOf(bin) },
    ]),
  ).values(),
];

function runSmoke(bin: string, version: string): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(bin, [...memory64Flags(version), "--import", "tsx", SMOKE], {
    cwd: join(__dirname, "..", ".."),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    err += d.toString();
  });
  return new Promise((resolve) => child.on("exit", (code) => resolve({ code, out, err })));
}

describe("the local network under each Node.js given", () => {
  it("every Node.js named in TEST_NODE_BINARIES exists, and on CI Node.js 22 and 24 are both covered", () => {
    for (const bin of given) expect(existsSync(bin), `TEST_NODE_BINARIES names ${bin}`).toBe(true);
    if (process.env.CI === "true") {
      const majors = nodes.map((n) => parseVersion(n.version)[0]);
      for (const major of REQUIRED_ON_CI)
        expect(majors, `Node.js ${major} (set TEST_NODE_BINARIES, as .ci/run does)`).toContain(major);
    }
  });

  it.each(nodes)(
    "$version ($bin): spawn, Eval, a message, its result and a dry-run with aoconnect",
    async ({ bin, version }) => {
      const r = await runSmoke(bin, version);
      expect(r.code, r.err).toBe(0);
      const last = JSON.parse(r.out.trim().split("\n").at(-1)!) as Record<string, unknown>;
      expect(last).toEqual({
        node: version,
        execArgv: [...memory64Flags(version), "--import", "tsx"],
        // Past the 64 MiB string the handler builds, so the memory grew while handling the message.
        message: "pong message 67108864",
        dryRun: "pong dry-run 67108864",
      });
    },
    120_000,
  );
});

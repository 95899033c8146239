import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { AOS_MODULE_ID } from "../../devnet/modules";
import { ensureNetwork, networkAnswers } from "../../scripts/deploy-dev";
import { tempDataDir } from "../support/devnet";

const REPO = join(__dirname, "..", "..");

describe("deploy:dev starts the local network when it is not running", () => {
  const dataDir = tempDataDir("deploy-dev-");
  let pid: number | undefined;

  afterAll(() => {
    if (pid) process.kill(pid, "SIGTERM");
  });

  it("starts it detached, waits for a network.json whose URLs answer, then reuses it", async () => {
    const started = await ensureNetwork({ repoRoot: REPO, dataDir, port: 0, log: () => {} });
    pid = started.startedPid;
    expect(pid).toBeGreaterThan(0);
    expect(readFileSync(join(dataDir, "devnet.pid"), "utf8").trim()).toBe(String(pid));
    expect(started.info.modules.map((m) => m.id)).toContain(AOS_MODULE_ID);
    expect(await networkAnswers(started.info)).toBe(true);

    const again = await ensureNetwork({ repoRoot: REPO, dataDir, port: 0, log: () => {} });
    expect(again.startedPid).toBeUndefined();
    expect(again.info.urls).toEqual(started.info.urls);
  }, 120_000);
});

import { describe, expect, it } from "vitest";
import {
  absentPlaces,
  INSTALL_URL,
  missingPulumiMessage,
  pulumiCandidates,
  WITHOUT_THE_CLI,
  whyNotRunning,
} from "../../scripts/lib/pulumiCli";

const launcher = { command: "/repo/node_modules/.bin/pulumi", source: "npm launcher" as const };
const onPath = { command: "/usr/local/bin/pulumi", source: "PATH" as const };
const errno = (code: string): NodeJS.ErrnoException =>
  Object.assign(new Error(`spawnSync ${code}`), { code });

describe("why a Pulumi CLI that is there does not run", () => {
  it("the npm launcher without internet: its download failed, and that looks like no internet access", () => {
    const why = whyNotRunning(
      launcher,
      { status: 1, stderr: "Downloading pulumi v3.265.0...\npulumi: fetch failed\n" },
      180_000,
    );
    expect(why).toBe(
      "/repo/node_modules/.bin/pulumi (the official npm launcher) could not download the CLI v3.265.0 " +
        "from get.pulumi.com (fetch failed: no internet access?)",
    );
  });

  it("the npm launcher's download failing otherwise: its own words, without guessing", () => {
    const why = whyNotRunning(
      launcher,
      {
        status: 1,
        stderr:
          "Downloading pulumi v3.265.0...\npulumi: HTTP 404 fetching https://get.pulumi.com/install.sh\n",
      },
      180_000,
    );
    expect(why).toContain("could not download the CLI v3.265.0 from get.pulumi.com (HTTP 404 fetching");
    expect(why).not.toContain("internet");
  });

  it.each([
    [{ status: null, error: errno("ETIMEDOUT") }, "did not answer `pulumi version` within 180 s"],
    [{ status: null, error: errno("EACCES") }, "could not be started (EACCES)"],
    [
      { status: 2, stderr: "error: bad things\n  more\nerror: the last word\n" },
      "failed `pulumi version` (exit 2: error: the last word)",
    ],
    [{ status: 0, stdout: "hello\n" }, 'answered `pulumi version` with "hello"'],
  ])("a binary on PATH: %j", (attempt, expected) => {
    expect(whyNotRunning(onPath, attempt, 180_000)).toBe(`/usr/local/bin/pulumi ${expected}`);
  });

  it("names each place where there was none", () => {
    expect(absentPlaces([])).toEqual([
      "no `pulumi` on PATH",
      "none in ~/.pulumi/bin",
      "no npm launcher in node_modules/.bin (run `npm ci`)",
    ]);
    expect(absentPlaces([launcher, onPath])).toEqual(["none in ~/.pulumi/bin"]);
  });
});

describe("where the CLI is looked for", () => {
  it("takes node_modules/.bin on PATH (as npm scripts set it) for the npm launcher it is, tried last", () => {
    const exists = new Set(["/repo/node_modules/.bin/pulumi", "/home/u/.pulumi/bin/pulumi"]);
    const c = pulumiCandidates({ PATH: "/repo/node_modules/.bin:/usr/bin", HOME: "/home/u" }, "/repo", (f) =>
      exists.has(f),
    );
    expect(c).toEqual([
      { command: "/home/u/.pulumi/bin/pulumi", source: "~/.pulumi/bin" },
      { command: "/repo/node_modules/.bin/pulumi", source: "npm launcher" },
    ]);
    expect(absentPlaces(c)).toEqual(["no `pulumi` on PATH"]);
  });
});

describe("the message", () => {
  it("says why, what runs instead, and how to install the CLI, one line each", () => {
    const lines = missingPulumiMessage(["no `pulumi` on PATH", "none in ~/.pulumi/bin"]).split("\n");
    expect(lines).toEqual([
      "The Pulumi CLI is missing: no `pulumi` on PATH; none in ~/.pulumi/bin.",
      `Instead: ${WITHOUT_THE_CLI}.`,
      expect.stringContaining(INSTALL_URL),
    ]);
    expect(WITHOUT_THE_CLI).toContain("npm run deploy:local");
  });

  it("says what the caller runs instead when it has a fallback", () => {
    expect(missingPulumiMessage(["x"], "deploying with the local engine")).toContain(
      "Instead: deploying with the local engine.",
    );
  });
});

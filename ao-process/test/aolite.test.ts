/**
 * The registry as deployed (the bundle with the deploy footer) in a process with aolite's loading rules:
 * `package` without `preload`, a `require` that reads `package.loaded` and then the path, `.process` a
 * function (support/aoliteSandbox.lua), on real Lua 5.3 running aos's own Lua. aolite itself is not a
 * package this CI can install; README.md says how to run the registry in a real aolite checkout.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { wrapWithFooter } from "../../providers/footer";
import { type AoliteLikeProcess, aoliteLikeProcess, type SandboxReply } from "./support/aoliteSandbox";
import { registryCode } from "./support/registry";

const OWNER = "O".repeat(43);
const ALICE = "A".repeat(43);
const BOB = "B".repeat(43);
const JSON_TYPED = [{ name: "Content-Type", value: "application/json" }];

let p: AoliteLikeProcess;
const { code, sha256 } = registryCode();

beforeAll(() => {
  p = aoliteLikeProcess("registry-aolite", OWNER);
  p.boot(wrapWithFooter(code, { sha256, deploymentId: "aolite-1" }));
});
afterAll(() => p?.close());

/** The one reply to `action`: its tags and decoded Data. */
function reply(replies: SandboxReply[], action: string, to: string) {
  const mine = replies.filter((m) =>
    m.Tags.some((t) => t.name === "Action" && t.value === `${action}-Response`),
  );
  expect(mine, `exactly one ${action}-Response`).toHaveLength(1);
  expect(mine[0]!.Target).toBe(to);
  const tags = Object.fromEntries(mine[0]!.Tags.map((t) => [t.name, t.value]));
  return { tags, body: JSON.parse(mine[0]!.Data ?? "") };
}
const request = (from: string, action: string, data: unknown, tags = [] as typeof JSON_TYPED) =>
  reply(p.send(from, [{ name: "Action", value: action }, ...tags], JSON.stringify(data)), action, from);

describe("the registry under aolite's loading rules", () => {
  it("loads where package has no preload and require('.process') is a function", () => {
    expect(p.eval("tostring(package.preload) .. ' ' .. type(require('.process'))")).toBe("nil function");
    expect(p.eval("DeployedCode.Sha256")).toBe(sha256);
  });

  it("starts sealed, as every new registry does, and its owner opens it with State-Open", () => {
    expect(request(ALICE, "Info", {}).body.status).toBe("sealed");
    expect(request(OWNER, "State-Open", {}).tags.Status).toBe("OK");
  });

  it("answers Info, saying that the JSON guard is not active here and why", () => {
    const { tags, body } = request(ALICE, "Info", {});
    expect(tags.Status).toBe("OK");
    expect(body.registry).toBe("Agent Skills Registry");
    expect(body.owner).toBe(OWNER);
    expect(body.deployment).toEqual({ sha256, deploymentId: "aolite-1" });
    expect(tags["Code-Sha256"]).toBe(sha256);
    expect(body.ingress).toMatchObject({ active: false, jsonGuard: false, dropsUnhandled: true });
    expect(body.ingress.reason).toBe(
      "aos's .process is a function here, not a table with handle: " +
        "aos decodes Data tagged Content-Type: application/json itself",
    );
  });

  it("registers a skill and returns it with Get-Skill, timestamps as 64-bit integers", () => {
    const registered = request(ALICE, "Register-Skill", {
      name: "pdf-tools",
      description: "Read, split and merge PDF files",
      tags: ["pdf"],
      version: "1.0.0",
      txId: "t".repeat(43),
      contentHash: "c".repeat(64),
    });
    expect(registered.tags.Status).toBe("OK");
    expect(registered.body.skill).toMatchObject({
      name: "pdf-tools",
      publisher: ALICE,
      latestVersion: "1.0.0",
    });
    const got = request(BOB, "Get-Skill", { name: "pdf-tools" });
    expect(got.tags.Status).toBe("OK");
    expect(got.body.skill).toEqual(registered.body.skill);
    expect(got.body.skill.createdAt).toBeGreaterThan(2 ** 32); // milliseconds, past 32-bit integers
    expect(got.body.version).toMatchObject({ version: "1.0.0", publishedBy: ALICE });
  });

  it("refuses Data that aos decoded first (Content-Type: application/json) with E_BAD_JSON naming the fix", () => {
    const { tags, body } = request(ALICE, "Get-Skill", { name: "pdf-tools" }, JSON_TYPED);
    expect(tags["Error-Code"]).toBe("E_BAD_JSON");
    expect(body.error.message).toBe(
      "Data must be a JSON object in text, got a table (aos decoded Data tagged Content-Type: " +
        "application/json before the registry could: see Info's ingress); send the JSON without that tag",
    );
  });

  it("drops messages no handler takes: the Inbox stays empty", () => {
    expect(p.send(BOB, [{ name: "Action", value: "Not-A-Registry-Action" }], "x".repeat(1000))).toEqual([]);
    expect(p.eval("#Inbox")).toBe("0");
  });

  it("loads again over itself, keeping the skills and replacing every module", () => {
    p.boot("Marker = require('registry.store')");
    p.boot(wrapWithFooter(code, { sha256, deploymentId: "aolite-2" }));
    expect(p.eval("Marker ~= require('registry.store')")).toBe("true");
    const info = request(BOB, "Info", {});
    expect(info.body.deployment.deploymentId).toBe("aolite-2");
    expect(info.body.counts.skills).toBe(1);
    expect(request(BOB, "Get-Skill", { name: "pdf-tools" }).body.skill.publisher).toBe(ALICE);
  });
});

/**
 * Every request example in ao-process/README.md (a `json request <Action>` block) is valid as printed:
 * sent in the README's order, by one publisher, to a freshly deployed registry on the real aos module,
 * each is answered OK. Reads go as dry-runs, writes as messages, as the CLI sends them.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { READ_ACTIONS } from "../../scripts/registry";
import { type Devnet, withDevnet } from "../../test/support/devnet";
import { type Actor, actor, deployRegistry, Registry, spawnProcess } from "./support/registry";

/** The README's request examples, in order: the action and the JSON text as printed. */
export function requestExamples(markdown: string): { action: string; text: string }[] {
  return [...markdown.matchAll(/^```json request ([A-Za-z-]+)\n([\s\S]*?)^```$/gm)].map((m) => ({
    action: m[1]!,
    text: m[2]!,
  }));
}

const examples = requestExamples(readFileSync(join(__dirname, "..", "README.md"), "utf8"));
let net: Devnet & { cleanup(): Promise<void> };
let publisher: Actor;
let registry: Registry;

beforeAll(async () => {
  net = await withDevnet();
  const owner = actor(net, "readme-owner");
  publisher = actor(net, "readme-publisher");
  const pid = await spawnProcess(net, owner, "readme-examples");
  await deployRegistry(owner, pid, "readme-examples");
  registry = new Registry(pid);
}, 120_000);

afterAll(async () => {
  await net?.cleanup();
});

describe("the request examples of ao-process/README.md", () => {
  it("are found: one or more for every action a client sends", () => {
    const actions = new Set(examples.map((e) => e.action));
    for (const action of [
      ...READ_ACTIONS.filter((a) => !a.startsWith("State-")),
      "Register-Skill",
      "Publish-Version",
      "Update-Skill",
      "Deprecate-Skill",
      "Transfer-Skill",
    ])
      expect(actions.has(action), action).toBe(true);
  });

  it("are each answered OK when sent as printed, in order", async () => {
    for (const { action, text } of examples) {
      const data = JSON.parse(text) as unknown;
      const reply = (READ_ACTIONS as readonly string[]).includes(action)
        ? await registry.read(publisher, action, data)
        : await registry.send(publisher, action, data);
      expect(
        `${action} ${reply.status} ${reply.code ?? ""} ${JSON.stringify(reply.body).slice(0, 300)}`,
      ).toMatch(new RegExp(`^${action} OK `));
    }
  }, 300_000);
});

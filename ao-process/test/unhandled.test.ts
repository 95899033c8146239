/**
 * Messages no handler takes, in bulk: aos would keep each in its Inbox (up to 10,000, for good), and every
 * later message would pay for them in aos's full garbage collection. On one live instance of the real aos
 * module, without HTTP or signatures: the fastest path to 10,000 evaluations (slow, so in its own file).
 */
import { expect, it } from "vitest";
import { startAosInstance } from "../../test/support/aosInstance";
import { registryCode } from "./support/registry";

const MESSAGES = 10_000;
const PADDING = "x".repeat(1024);

it(`${MESSAGES.toLocaleString("en")} large unhandled messages leave the registry's heap flat and its Inbox empty`, async () => {
  const p = await startAosInstance("registry-unhandled");
  await p.load(registryCode().code);
  const stranger = "S".repeat(43);
  const spam = (i: number) =>
    p.msg([{ name: "Action", value: "Not-A-Registry-Action" }], `${i}:${PADDING}`, stranger);
  /** The Lua heap (bytes) and the Inbox length, read by a dry-run Eval that records nothing. */
  const measure = async () => {
    const r = await p.vm.dryRun(
      p.msg(
        [{ name: "Action", value: "Eval" }],
        'return string.format("%d %d", collectgarbage("count") * 1024, #Inbox)',
      ),
      p.env,
    );
    const [heap, inbox] = String((r.Output as { data?: unknown }).data)
      .split(" ")
      .map(Number);
    return { heap: heap!, inbox: inbox! };
  };

  for (let i = 0; i < 100; i++) await p.evaluate(spam(i)); // whatever aos allocates once
  const before = await measure();
  for (let i = 100; i < MESSAGES; i++) {
    const r = await p.evaluate(spam(i));
    if (r.Messages.length > 0 || r.Error)
      throw new Error(`message ${i} got ${JSON.stringify(r).slice(0, 300)}`);
  }
  const after = await measure();
  expect(after.inbox).toBe(0);
  // Kept in the Inbox, these messages would add more than 10 MiB; flat means under 256 KiB of drift.
  expect(after.heap - before.heap).toBeLessThan(256 * 1024);
}, 300_000);

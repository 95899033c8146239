import { describe, expect, it } from "vitest";
import { startAosInstance } from "../support/aosInstance";

/**
 * The live instance's bookkeeping of "the memory as it is now", which a dry-run restores afterwards.
 * A stale record there would make a dry-run roll the process back to an earlier state.
 */
describe("AosVm: dry-runs put back the state the messages left", () => {
  async function counter() {
    const ao = await startAosInstance("vm-counter");
    await ao.load(`Counter = 0
Handlers.add("inc", "Inc", function() Counter = Counter + 1 end)
Handlers.add("get", "Get", function(m) m.reply({ Data = tostring(Counter) }) end)`);
    const get = async () => {
      const r = await ao.vm.dryRun(ao.msg([{ name: "Action", value: "Get" }]), ao.env);
      return (r.Messages as { Data: string }[])[0]?.Data;
    };
    return { ...ao, get, inc: () => ao.msg([{ name: "Action", value: "Inc" }]) };
  }

  it("a dry-run changes nothing, and a message after it builds on the state before it", async () => {
    const c = await counter();
    await c.evaluate(c.inc());
    expect(await c.get()).toBe("1");
    expect(await c.get()).toBe("1");
    await c.evaluate(c.inc());
    expect(await c.get()).toBe("2");
  });

  it("a background scan queued before a message does not stand for the state after it", async () => {
    const c = await counter();
    // As after a restore: the scan is queued, then a message is evaluated before the scan has run.
    c.vm.warm();
    await c.evaluate(c.inc());
    expect(await c.get()).toBe("1");
    // The first dry-run put the memory back; it must be the state after the message.
    expect(await c.get()).toBe("1");
    await c.evaluate(c.inc());
    expect(await c.get()).toBe("2");
  });
});

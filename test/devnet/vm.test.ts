import { describe, expect, it } from "vitest";
import { DeadlineError, IsolatedVm } from "../../devnet/isolatedVm";
import { loadModules } from "../../devnet/modules";
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

/**
 * The compute unit's instances run in worker threads (`IsolatedVm`), where an evaluation that never ends
 * can be stopped: the rest of the process (and of the network) goes on.
 */
describe("IsolatedVm: an aos instance in a worker thread", () => {
  async function isolatedCounter() {
    const ao = await startAosInstance("vm-isolated");
    await ao.load(`Counter = 0
Handlers.add("inc", "Inc", function() Counter = Counter + 1 end)
Handlers.add("get", "Get", function(m) m.reply({ Data = tostring(Counter) }) end)`);
    const [mod] = await loadModules();
    const vm = await IsolatedVm.start(mod!);
    // The same messages bring the worker's instance to the same state as the one in this thread.
    for (const m of ao.history) await vm.evaluate(m, ao.env, 10_000);
    const get = async (on: IsolatedVm) => {
      const r = await on.dryRun(ao.msg([{ name: "Action", value: "Get" }]), ao.env, 10_000);
      return (r.Messages as { Data: string }[])[0]?.Data;
    };
    return { ...ao, vm, mod: mod!, get, inc: () => ao.msg([{ name: "Action", value: "Inc" }]) };
  }

  it("evaluates, and its dry-runs put back the state the messages left", async () => {
    const c = await isolatedCounter();
    try {
      await c.vm.evaluate(c.inc(), c.env, 10_000);
      expect(await c.get(c.vm)).toBe("1");
      await c.vm.dryRun(c.inc(), c.env, 10_000);
      expect(await c.get(c.vm)).toBe("1");
    } finally {
      await c.vm.terminate();
    }
  });

  it("a snapshot taken in one worker restores the same state in another", async () => {
    const c = await isolatedCounter();
    await c.vm.evaluate(c.inc(), c.env, 10_000);
    const vm2 = await IsolatedVm.start(c.mod, await c.vm.snapshot());
    try {
      expect(await c.get(vm2)).toBe("1");
    } finally {
      await c.vm.terminate();
      await vm2.terminate();
    }
  });

  it("an evaluation past its deadline is stopped with a DeadlineError, and the instance takes no more calls", async () => {
    const c = await isolatedCounter();
    const loop = c.msg([{ name: "Action", value: "Eval" }], "while true do end");
    await expect(c.vm.evaluate(loop, c.env, 200)).rejects.toBeInstanceOf(DeadlineError);
    await expect(c.vm.evaluate(c.inc(), c.env, 10_000)).rejects.toThrow(/stopped/);
    const dry = await IsolatedVm.start(c.mod);
    try {
      for (const m of c.history) await dry.evaluate(m, c.env, 10_000);
      await expect(dry.dryRun(loop, c.env, 200)).rejects.toBeInstanceOf(DeadlineError);
    } finally {
      await dry.terminate();
    }
  });
});

import type { Tag } from "../../devnet/dataItem";
import { loadModules } from "../../devnet/modules";
import { type AosEnv, type AosMessage, AosVm } from "../../devnet/vm";

/**
 * One aos process on a live instance, as the compute unit runs it, without HTTP or signatures: for
 * benchmarks and tests of the compute unit's instance itself. The process is booted (its spawn
 * message evaluated).
 */
export async function startAosInstance(name: string) {
  const [mod] = await loadModules();
  const vm = await AosVm.start(mod!);
  const pid = "P".repeat(43);
  const owner = "O".repeat(43);
  const env: AosEnv = {
    Process: { Id: pid, Owner: owner, Tags: [{ name: "Name", value: name }] },
    Module: { Id: mod!.id, Owner: owner, Tags: mod!.tags },
  };
  let nonce = 0;
  const msg = (tags: Tag[], data = "", from = owner): AosMessage => ({
    Id: nonce === 0 ? pid : `m${nonce}`.padEnd(43, "x"),
    Owner: from,
    From: from,
    Target: pid,
    Tags: tags,
    Data: data,
    Nonce: nonce++,
    Timestamp: 1_750_000_000_000 + nonce,
    "Block-Height": 1_500_000,
    Cron: false,
    Epoch: 0,
  });
  /** Every message evaluated so far, in order: what another runtime needs to reach the same state. */
  const history: AosMessage[] = [];
  const evaluate = async (m: AosMessage) => {
    history.push(m);
    return vm.evaluate(m, env);
  };
  const boot = await evaluate(
    msg([
      { name: "Type", value: "Process" },
      { name: "Module", value: mod!.id },
      { name: "Scheduler", value: owner },
      { name: "Name", value: name },
    ]),
  );
  if (boot.Error) throw new Error(`boot failed: ${String(boot.Error)}`);
  /** Evaluates code as the owner's Eval; throws on an error. */
  const load = async (code: string) => {
    const r = await evaluate(msg([{ name: "Action", value: "Eval" }], code));
    if (r.Error) throw new Error(`Eval failed: ${String(r.Error)}`);
  };
  return { vm, env, msg, load, evaluate, history, owner, pid };
}

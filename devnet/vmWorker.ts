import { readlinkSync } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";
import type { AosModule } from "./modules";
import { type AosResult, AosVm } from "./vm";
import type { VmReply, VmRequest, VmWorkerData } from "./vmProtocol";

/**
 * A worker thread that holds one live aos instance and answers the requests of `IsolatedVm`. It is a thin
 * adapter: `AosVm` keeps its own lane (per thread here), so requests are handed straight to it.
 */
const port = parentPort!;
const data = workerData as VmWorkerData;

function reply(r: VmReply, transfer: ArrayBuffer[] = []): void {
  port.postMessage(r, transfer);
}

function fail(id: number, err: unknown): void {
  reply({ id, error: err instanceof Error ? err.message : String(err) });
}

async function answer(id: number, evaluation: Promise<AosResult>): Promise<void> {
  try {
    reply({ id, result: await evaluation });
  } catch (e) {
    fail(id, e);
  }
}

/** This thread's entry under /proc (`<pid>/task/<tid>`), where the parent reads its CPU time; Linux only. */
function threadPath(): string | undefined {
  try {
    return readlinkSync("/proc/thread-self");
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  const mod: AosModule = data.module;
  const vm = await AosVm.start(mod, data.snapshot ? Buffer.from(data.snapshot) : undefined);
  port.on("message", (req: VmRequest) => {
    switch (req.op) {
      case "evaluate":
        void answer(req.id, vm.evaluate(req.msg, req.env));
        return;
      case "dryRun":
        void answer(req.id, vm.dryRun(req.msg, req.env));
        return;
      case "warm":
        vm.warm();
        return;
      case "snapshot":
        try {
          // A copy of exactly the snapshot's bytes, whose buffer can then be moved rather than cloned.
          const bytes = new Uint8Array(vm.snapshot());
          reply({ id: req.id, snapshot: bytes }, [bytes.buffer as ArrayBuffer]);
        } catch (e) {
          fail(req.id, e);
        }
        return;
    }
  });
  reply({ id: 0, ready: true, thread: threadPath() });
}

main().catch((e: unknown) => fail(0, e));

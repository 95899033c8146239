import { readlinkSync } from "node:fs";
import { setPriority } from "node:os";
import { parentPort } from "node:worker_threads";
import { type AosResult, AosVm } from "./vm";
import type { VmReply, VmRequest, VmStart } from "./vmProtocol";

/**
 * A worker thread that holds one live aos instance and answers the requests of `IsolatedVm`. It is a thin
 * adapter: `AosVm` keeps its own lane (per thread here), so requests are handed straight to it.
 */
const port = parentPort!;

function reply(r: VmReply, transfer: ArrayBuffer[] = []): void {
  port.postMessage(r, transfer);
}

function fail(id: number, err: unknown): void {
  reply({ id, error: err instanceof Error ? err.message : String(err) });
}

/** Tells the parent that request `id` begins now, and this thread's CPU time then. */
function started(id: number): () => void {
  return () => {
    const { user, system } = process.threadCpuUsage();
    reply({ id, started: (user + system) / 1000 });
  };
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

/** The lowest CPU priority (nice 19) for this thread alone: Linux's setpriority takes a thread ID. */
function lowerPriority(thread: string | undefined): void {
  const tid = Number(thread?.split("/").at(-1));
  if (!Number.isInteger(tid) || tid <= 0) return;
  try {
    setPriority(tid, 19);
  } catch {
    // Not permitted or not supported: the thread keeps the default priority.
  }
}

/** Starts the instance; the thread may have been started ahead, before it knew its process. */
async function start(data: VmStart): Promise<void> {
  // Before any work: a background instance's restore must yield to message evaluation too.
  if (data.background) lowerPriority(threadPath());
  const vm = await AosVm.start(data.module, data.snapshot ? Buffer.from(data.snapshot) : undefined);
  port.on("message", (req: VmRequest) => {
    switch (req.op) {
      case "evaluate":
        void answer(req.id, vm.evaluate(req.msg, req.env, started(req.id)));
        return;
      case "dryRun":
        void answer(req.id, vm.dryRun(req.msg, req.env, started(req.id)));
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

// ao-loader, the code every instance needs, is loaded ahead of the start by vmWorker.cjs.
port.once("message", (data: VmStart) => {
  start(data).catch((e: unknown) => fail(0, e));
});

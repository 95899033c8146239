/**
 * What checksums cost a start: reading and checking a process's messages log (CRC chain, nonce order,
 * hash chain, assignment IDs), against reading the same records as plain JSON lines, as the network did
 * before records had checksums.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Item } from "../devnet/dataItem";
import { Journal } from "../devnet/journal";
import { Scheduler } from "../devnet/scheduler";
import { figure, median, section } from "./report";

const RECORDS = 10_000;

const item = (id: string, target: string): Item => ({
  id,
  owner: "o".repeat(43),
  ownerKey: "k".repeat(683),
  signature: "s".repeat(683),
  target,
  anchor: "",
  tags: [
    { name: "Action", value: "Publish" },
    { name: "Data-Protocol", value: "ao" },
  ],
  data: "d".repeat(500),
});

function timeOf(fn: () => void, runs = 5): number {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    ms.push(performance.now() - t0);
  }
  return median(ms);
}

export async function run(): Promise<void> {
  section("journal");
  const dir = mkdtempSync(join(tmpdir(), "journal-bench-"));
  try {
    const scheduler = new Scheduler(dir, "a".repeat(43));
    const pid = "p".repeat(43);
    await scheduler.spawn(item(pid, ""));
    // One batch: the group commit writes them with one fsync.
    await Promise.all(
      Array.from({ length: RECORDS - 1 }, (_, i) => scheduler.schedule(pid, item(`m${i}`, pid))),
    );
    scheduler.close();
    const file = join(dir, pid, "messages.log");
    const plain = () => {
      for (const line of readFileSync(file, "utf8").split("\n")) if (line) JSON.parse(line);
    };
    const checked = () => Scheduler.scanLogs(dir);
    const size = readFileSync(file).length / 2 ** 20;
    const base = timeOf(plain);
    figure(
      `read and check a ${RECORDS}-record messages log (${size.toFixed(1)} MiB)`,
      timeOf(checked),
      "ms",
      {
        baseline: { name: "plain JSON lines", value: base },
      },
    );
    await appends(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * What the acknowledged-length marker costs a write: each durable append is synced, then the marker is
 * written and synced, before it resolves. One at a time (each awaited) and 200 at once (one group commit
 * shares both syncs), against the same appends without a marker.
 */
async function appends(dir: string): Promise<void> {
  const record = { nonce: 1, item: item("m".repeat(43), "p".repeat(43)) };
  const rate = async (acked: boolean, inFlight: number, total: number) => {
    const j = new Journal(join(dir, `appends-${acked}-${inFlight}-${Math.random()}.log`), { acked });
    const t0 = performance.now();
    for (let sent = 0; sent < total; sent += inFlight)
      await Promise.all(Array.from({ length: inFlight }, () => j.append(record)));
    const perSecond = total / ((performance.now() - t0) / 1000);
    j.close();
    return perSecond;
  };
  for (const [inFlight, total] of [
    [1, 300],
    [200, 4000],
  ] as const) {
    const without = await rate(false, inFlight, total);
    figure(
      `durable appends, ${inFlight} in flight, with the acknowledged-length marker`,
      await rate(true, inFlight, total),
      "rec/s",
      {
        baseline: { name: "without", value: without },
      },
    );
  }
}

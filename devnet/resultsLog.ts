import { readFileSync } from "node:fs";
import { writeFileDurably } from "../providers/durableFile";
import { Journal, type JournalScan } from "./journal";
import type { ProcessSchedule, Scheduled } from "./scheduler";
import type { AosResult } from "./vm";

/** One line of a process's results log: the result of the message at `nonce`, and which message that is. */
export interface ResultRecord {
  nonce: number;
  /** The message's ID and its assignment's (absent in logs written before they were recorded). */
  message?: string;
  assignment?: string;
  result: AosResult;
}

export const resultRecord = (s: Scheduled, result: AosResult): ResultRecord => ({
  nonce: s.nonce,
  message: s.item.id,
  assignment: s.assignmentId,
  result,
});

function recordFault(r: ResultRecord, i: number, schedule: ProcessSchedule): string | undefined {
  if (typeof r !== "object" || r === null || typeof r.result !== "object" || r.result === null)
    return "not a result";
  if (r.nonce !== i) return `nonce ${r.nonce} where ${i} comes next`;
  const s = schedule.messages[i];
  if (!s || i > schedule.durable) return `a result for nonce ${i}, which the messages log does not hold`;
  if (
    (r.message !== undefined && r.message !== s.item.id) ||
    (r.assignment ?? s.assignmentId) !== s.assignmentId
  )
    return `the result of message ${r.message ?? "?"}, not of ${s.item.id} which the messages log holds at nonce ${i}`;
  return undefined;
}

/**
 * How much of a results log holds results of the schedule, and why the rest does not. Results can be
 * recomputed, so whatever follows the first record that is damaged or does not match the messages log
 * is given up, never refused. Pure.
 */
export function resultsToKeep(
  scan: JournalScan<ResultRecord>,
  schedule: ProcessSchedule,
): { kept: number; end: number; reason?: string; line?: number } {
  for (const [i, r] of scan.records.entries()) {
    const reason = recordFault(r, i, schedule);
    if (reason) return { kept: i, end: scan.places[i]!.offset, reason, line: scan.places[i]!.line };
  }
  const bad = scan.damage ?? scan.torn;
  const kept = scan.records.length;
  return bad ? { kept, end: bad.offset, reason: bad.reason, line: bad.line } : { kept, end: scan.size };
}

/**
 * The stored results of a process, after making its results log agree with its messages log: a log that
 * is damaged or longer than the messages log is cut after its last good result (reported), and what
 * is missing is recomputed by the compute unit.
 */
export function loadResults(
  file: string,
  schedule: ProcessSchedule,
  report: (line: string) => void,
): AosResult[] {
  const scan = Journal.scan<ResultRecord>(file);
  const keep = resultsToKeep(scan, schedule);
  if (keep.reason !== undefined) {
    writeFileDurably(file, readFileSync(file).subarray(0, keep.end));
    report(
      `${file}: kept the first ${keep.kept} results; gave up the rest from line ${keep.line} (byte ${keep.end}, ` +
        `of ${scan.size}): ${keep.reason}. They are recomputed from the messages log.`,
    );
  }
  return scan.records.slice(0, keep.kept).map((r) => r.result);
}

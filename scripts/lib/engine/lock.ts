/**
 * One run at a time per stack state: a lock file created exclusively (O_EXCL), holding the owner's pid.
 * A lock whose pid no longer runs (a run killed with -9) is stale: it is taken over, with a note.
 */
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { dirname } from "node:path";

export interface LockHolder {
  pid: number;
  startedAt: string;
}

export class LockError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LockError";
  }
}

/** Whether a process with this pid exists (EPERM: it exists, owned by someone else). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** What to do about an existing lock: pure, given whether its holder still runs. */
export function lockDecision(
  holder: LockHolder | undefined,
  alive: (pid: number) => boolean,
): "take-over" | "refuse" {
  if (!holder || !Number.isInteger(holder.pid) || holder.pid <= 0) return "take-over";
  return alive(holder.pid) ? "refuse" : "take-over";
}

function readHolder(file: string): LockHolder | undefined {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as LockHolder;
  } catch {
    return undefined; // gone meanwhile, or torn: a holder that never finished writing is stale
  }
}

export interface Lock {
  release(): void;
}

/** Takes the lock or throws LockError naming the holder; `note` hears about a stale lock taken over. */
export function acquireLock(
  file: string,
  note: (line: string) => void,
  alive: (pid: number) => boolean = pidAlive,
): Lock {
  mkdirSync(dirname(file), { recursive: true });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, "wx", 0o600);
      writeSync(fd, JSON.stringify({ pid: process.pid, startedAt: new Date().toISOString() }));
      closeSync(fd);
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          try {
            unlinkSync(file);
          } catch {}
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    const holder = readHolder(file);
    if (lockDecision(holder, alive) === "refuse") {
      throw new LockError(
        `another deploy of this stack is running (pid ${holder!.pid}, since ${holder!.startedAt}; lock ${file}): wait for it to finish`,
      );
    }
    note(
      `taking over the lock ${file}: its holder${holder ? ` (pid ${holder.pid})` : ""} is no longer running (an interrupted run)`,
    );
    try {
      unlinkSync(file);
    } catch {}
  }
  throw new LockError(`could not take the lock ${file}: other runs keep taking it`);
}

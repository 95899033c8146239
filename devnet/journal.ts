import { closeSync, existsSync, fsyncSync, openSync, readFileSync, truncateSync, writeSync } from "node:fs";

/**
 * An append-only file of JSON lines.
 *
 * `append` resolves once the line is on disk (fdatasync); lines appended while a sync is under way are
 * written and synced together (group commit), so concurrent writers share one fsync. `appendLazy` writes
 * without waiting for the disk, for data that can be recomputed after a crash.
 */
export class Journal {
  private readonly fd: number;
  private pending: { line: string; done: () => void; fail: (e: Error) => void }[] = [];
  private flushing = false;
  private closed = false;

  constructor(readonly path: string) {
    this.fd = openSync(path, "a");
  }

  /** Reads every complete line; a torn last line (a crash mid-write) is cut off the file. */
  static read<T>(path: string): T[] {
    if (!existsSync(path)) return [];
    const text = readFileSync(path, "utf8");
    const lines = text.split("\n");
    const records: T[] = [];
    let good = 0;
    for (const line of lines) {
      if (line === "") break;
      try {
        records.push(JSON.parse(line) as T);
      } catch {
        break;
      }
      good += Buffer.byteLength(line, "utf8") + 1;
    }
    if (good < Buffer.byteLength(text, "utf8")) truncateSync(path, good);
    return records;
  }

  append(record: unknown): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`journal ${this.path} is closed`));
    return new Promise((done, fail) => {
      this.pending.push({ line: `${JSON.stringify(record)}\n`, done, fail });
      if (!this.flushing) this.flush();
    });
  }

  appendLazy(record: unknown): void {
    if (this.closed) return;
    writeSync(this.fd, `${JSON.stringify(record)}\n`);
  }

  /** Makes everything written so far durable. */
  sync(): void {
    if (!this.closed) fsyncSync(this.fd);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    fsyncSync(this.fd);
    closeSync(this.fd);
  }

  private flush(): void {
    this.flushing = true;
    // Yield once so that appends made in the same tick join this batch.
    setImmediate(() => {
      const batch = this.pending;
      this.pending = [];
      try {
        writeSync(this.fd, batch.map((p) => p.line).join(""));
        fsyncSync(this.fd);
        for (const p of batch) p.done();
      } catch (err) {
        for (const p of batch) p.fail(err as Error);
      }
      if (this.pending.length > 0) this.flush();
      else this.flushing = false;
    });
  }
}

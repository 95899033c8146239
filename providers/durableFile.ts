/** Durable whole-file writes: the local network's journals and snapshots, and the provider's move backups. */
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from "node:fs";
import { dirname } from "node:path";

/** Makes a directory's entries (a create, a rename, a removal) durable. */
export function syncDir(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes a whole file so that a crash leaves either the old file or the new one, never a part:
 * a temporary file, fsync, rename over the target, fsync of the directory.
 */
export function writeFileDurably(path: string, data: string | Uint8Array, mode = 0o644): void {
  // One temporary file per process: two processes writing the same file never share one.
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, "w", mode);
  try {
    writeSync(fd, typeof data === "string" ? Buffer.from(data) : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  syncDir(dirname(path));
}

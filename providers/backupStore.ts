/**
 * Move backups on disk: one JSON file per move, `<dir>/<from>-to-<to>.json`, written durably before any
 * page is imported. A file that is not a backup of this move (damaged, another format) is not reused:
 * the move exports again and writes it anew. CI uploads the directory as an artifact.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { writeFileDurably } from "./durableFile";
import { BACKUP_FORMAT, type BackupFile, type BackupStore } from "./stateMove";

/** Where backups go unless the resource says otherwise (relative to the deploy's working directory). */
export const DEFAULT_BACKUP_DIR = ".ao-backups";

export const backupPath = (dir: string, from: string, to: string) =>
  join(resolve(dir), `${from}-to-${to}.json`);

export function fileBackupStore(dir: string): BackupStore {
  return {
    read(from, to) {
      const file = backupPath(dir, from, to);
      if (!existsSync(file)) return undefined;
      try {
        const b = JSON.parse(readFileSync(file, "utf8")) as BackupFile;
        const ok = b.format === BACKUP_FORMAT && b.from === from && b.to === to && Array.isArray(b.pages);
        return ok ? b : undefined;
      } catch {
        return undefined;
      }
    },
    write(backup) {
      mkdirSync(resolve(dir), { recursive: true });
      const file = backupPath(dir, backup.from, backup.to);
      writeFileDurably(file, `${JSON.stringify(backup)}\n`);
      return file;
    },
  };
}

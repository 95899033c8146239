import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SECRET_SIG, SECRET_SIG_KEY } from "../../scripts/lib/dynamicHost";
import { acquireLock, LockError, lockDecision } from "../../scripts/lib/engine/lock";
import {
  emptyState,
  parseState,
  readState,
  redactSecrets,
  StateError,
  writeState,
} from "../../scripts/lib/engine/state";

const dir = () => mkdtempSync(join(tmpdir(), "engine-"));

describe("the lock", () => {
  it("stops a second run while the first holds it, naming the holder", () => {
    const file = join(dir(), "dev.lock");
    const first = acquireLock(file, () => {});
    expect(() => acquireLock(file, () => {})).toThrow(LockError);
    expect(() => acquireLock(file, () => {})).toThrow(new RegExp(`pid ${process.pid}`));
    first.release();
    acquireLock(file, () => {}).release();
    expect(existsSync(file)).toBe(false);
  });

  it("takes over the stale lock of a pid that no longer runs, with a note", () => {
    const file = join(dir(), "dev.lock");
    writeFileSync(file, JSON.stringify({ pid: 999_999_999, startedAt: "then" }));
    const notes: string[] = [];
    const lock = acquireLock(
      file,
      (l) => notes.push(l),
      () => false,
    );
    expect(notes).toEqual([expect.stringMatching(/pid 999999999\) is no longer running/)]);
    expect(JSON.parse(readFileSync(file, "utf8")).pid).toBe(process.pid);
    lock.release();
  });

  it("decides purely: refuse a live holder, take over a dead or unreadable one", () => {
    expect(lockDecision({ pid: 5, startedAt: "" }, () => true)).toBe("refuse");
    expect(lockDecision({ pid: 5, startedAt: "" }, () => false)).toBe("take-over");
    expect(lockDecision(undefined, () => true)).toBe("take-over");
  });
});

describe("the state file", () => {
  it("starts empty, round-trips, and is written without leftovers", () => {
    const d = dir();
    const file = join(d, "dev.json");
    expect(readState(file, "p", "dev").resources).toEqual([]);
    const s = { ...emptyState("p", "dev"), outputs: { processId: "x" } };
    writeState(file, s);
    expect(readState(file, "p", "dev").outputs).toEqual({ processId: "x" });
    expect(readdirSync(d)).toEqual(["dev.json"]);
  });

  it("refuses a file of another version, another stack, or not JSON, naming the file and the fix", () => {
    expect(() => parseState("{", "f.json")).toThrow(/f\.json is not valid JSON.*move it away/);
    expect(() => parseState('{"version":2}', "f.json")).toThrow(
      /state version 2; this engine reads version 1/,
    );
    const file = join(dir(), "dev.json");
    writeState(file, emptyState("p", "other"));
    expect(() => readState(file, "p", "dev")).toThrow(StateError);
  });

  it("keeps a digest of every secret, never its value", () => {
    const wrapped = { [SECRET_SIG_KEY]: SECRET_SIG, value: "ghp_secret_token" };
    const out = redactSecrets({ token: wrapped, list: [wrapped], plain: "x" });
    expect(JSON.stringify(out)).not.toContain("ghp_secret_token");
    expect(out).toMatchObject({
      token: { secret: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) },
      plain: "x",
    });
    const other = redactSecrets({ token: { ...wrapped, value: "other" } }) as { token: unknown };
    expect(other.token).not.toEqual((out as { token: unknown }).token);
  });
});

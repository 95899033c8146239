/**
 * The local network's keys: one per role by default (the mainnet node, the scheduler, the legacy
 * messenger), or one for all; a data directory keeps the layout it was written with, and a missing key
 * stops the start before anything changes.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { KEY_FILES, openDataDir } from "../../devnet/dataDir";
import { devnetCliArgs, tempDataDir } from "../support/devnet";
import { testWallet } from "../support/wallets";

const dirs: string[] = [];
const fresh = () => {
  const d = tempDataDir("devnet-keys-");
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A data directory holding these test wallets as role keys (key generation costs seconds). */
function withKeys(files: Partial<Record<keyof typeof KEY_FILES, string>>): string {
  const dir = fresh();
  for (const [role, name] of Object.entries(files)) {
    testWallet(name);
    const from = join(tmpdir(), "ao-registry-test-wallets", `${name}.json`);
    copyFileSync(from, join(dir, KEY_FILES[role as keyof typeof KEY_FILES]));
  }
  return dir;
}

describe("a new data directory", () => {
  test("gets one key per role by default: three files, three addresses, the same at the next start", () => {
    const dir = fresh();
    const { keys } = openDataDir(dir);
    expect(keys.layout).toBe("distinct");
    expect(new Set([keys.scheduler.address, keys.messenger.address, keys.node.address]).size).toBe(3);
    expect(readdirSync(dir).sort()).toEqual(Object.values(KEY_FILES).sort());
    const again = openDataDir(dir).keys;
    expect([again.scheduler.address, again.messenger.address, again.node.address]).toEqual([
      keys.scheduler.address,
      keys.messenger.address,
      keys.node.address,
    ]);
  }, 30_000);

  test("with keys: shared, one key plays every role", () => {
    const dir = fresh();
    const { keys } = openDataDir(dir, { keys: "shared" });
    expect(keys.layout).toBe("shared");
    expect(keys.messenger.address).toBe(keys.scheduler.address);
    expect(keys.node.address).toBe(keys.scheduler.address);
    expect(readdirSync(dir)).toEqual([KEY_FILES.scheduler]);
  }, 30_000);
});

describe("an existing data directory keeps its layout", () => {
  test("one written before role keys (wallet.json alone) is shared, and asking for distinct keys stops the start", () => {
    const dir = withKeys({ scheduler: "alice" });
    expect(openDataDir(dir).keys.layout).toBe("shared");
    expect(() => openDataDir(dir, { keys: "distinct" })).toThrow(
      /uses one key for the scheduler, the messenger and the node .* Start a new data directory/,
    );
    expect(readdirSync(dir)).toEqual([KEY_FILES.scheduler]);
  });

  test("a distinct one cannot run shared", () => {
    const dir = withKeys({ scheduler: "alice", messenger: "bob", node: "carol" });
    const { keys } = openDataDir(dir);
    expect(keys.layout).toBe("distinct");
    expect(keys.node.address).toBe(testWallet("carol").address);
    expect(keys.messenger.address).toBe(testWallet("bob").address);
    expect(() => openDataDir(dir, { keys: "shared" })).toThrow(
      /gives the scheduler, the messenger and the node their own keys/,
    );
  });

  test.each([
    ["node", { scheduler: "alice", messenger: "bob" }],
    ["messenger", { scheduler: "alice", node: "carol" }],
  ] as const)(
    "a missing %s key beside the other stops the start, naming the file, and changes nothing",
    (missing, files) => {
      const dir = withKeys(files);
      writeFileSync(join(dir, "marker"), "");
      const before = readdirSync(dir).sort();
      expect(() => openDataDir(dir)).toThrow(
        new RegExp(`${KEY_FILES[missing]} is missing .* restore it .* Nothing was changed`),
      );
      expect(readdirSync(dir).sort()).toEqual(before);
      expect(existsSync(join(dir, KEY_FILES[missing]))).toBe(false);
    },
  );
});

describe("npm run devnet's flags for keys and schedulers", () => {
  test.each([
    [["--keys", "some"], "--keys some: use distinct (one key per role) or shared (one key for all)"],
    [
      ["--foreign-schedulers", "not-an-address"],
      '--foreign-schedulers: "not-an-address" is not a 43-character address',
    ],
  ])("%j is refused in one line before anything starts", (args, message) => {
    const dir = fresh();
    const r = spawnSync(process.execPath, devnetCliArgs(dir, args), { encoding: "utf8", timeout: 60_000 });
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe(`devnet: ${message}`);
    expect(readdirSync(dir)).toEqual([]);
  });
});

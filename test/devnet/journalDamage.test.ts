import { spawnSync } from "node:child_process";
import { createHash, generateKeyPairSync } from "node:crypto";
import {
  appendFileSync,
  cpSync,
  existsSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type Devnet, startDevnet } from "../../devnet";
import { ackedFileOf, decodeAcked, readAcked } from "../../devnet/ackMarker";
import { Journal, JournalDamageError } from "../../devnet/journal";
import { decodeSnapshot, encodeSnapshot } from "../../devnet/snapshots";
import { generateWallet, rsaKeyProblem } from "../../devnet/wallet";
import type { Jwk } from "../../providers/wallet";
import { aoClient, devnetCliArgs, tempDataDir } from "../support/devnet";
import { testWallet } from "../support/wallets";

const alice = testWallet("alice");
const dirs: string[] = [];
const tempDir = () => {
  const d = tempDataDir("journal-damage-");
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Every file under `dir` with the sha256 of its bytes: the proof that a refused start changed nothing. */
function hashTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out[relative(dir, p)] = createHash("sha256").update(readFileSync(p)).digest("hex");
    }
  };
  walk(dir);
  return out;
}

const lines = (file: string) => readFileSync(file, "utf8").split("\n").slice(0, -1);
const writeLines = (file: string, ls: string[]) => writeFileSync(file, ls.map((l) => `${l}\n`).join(""));
/** `ls` with `remove` lines from `at` replaced by `insert` (Array#toSpliced, not in this TS lib). */
const spliced = (ls: string[], at: number, remove: number, ...insert: string[]) => {
  const copy = [...ls];
  copy.splice(at, remove, ...insert);
  return copy;
};
/** Byte offset at which line `n` (1-based) starts. */
const offsetOf = (file: string, n: number) =>
  lines(file)
    .slice(0, n - 1)
    .reduce((sum, l) => sum + Buffer.byteLength(l) + 1, 0);

/** Changes one character of a record's signature: still JSON, still a well-formed assignment. */
function flipSignatureChar(file: string, n: number): void {
  const ls = lines(file);
  const m = /"signature":"(.)/.exec(ls[n - 1]!)!;
  const at = m.index + '"signature":"'.length;
  ls[n - 1] = ls[n - 1]!.slice(0, at) + (m[1] === "A" ? "B" : "A") + ls[n - 1]!.slice(at + 1);
  writeLines(file, ls);
}

/** A record as an older network wrote it: plain JSON, no checksum. */
const legacyLine = (line: string) => JSON.stringify((({ "#crc": _, ...r }) => r)(JSON.parse(line)));
/** A results record as an older network wrote it: no checksum, no message IDs. */
const legacyResult = (line: string) =>
  JSON.stringify(
    (({ nonce, result }) => ({ nonce, result }))(JSON.parse(line) as { nonce: number; result: unknown }),
  );

describe("journal records", () => {
  const journalWith = async (records: object[]) => {
    const file = join(tempDir(), "j.log");
    const j = new Journal(file);
    for (const r of records) await j.append(r);
    j.close();
    return file;
  };

  test("every line carries a checksum, and an older reader of plain JSON lines still parses each record", async () => {
    const file = await journalWith([{ a: 1 }, {}, { b: "é\n" }]);
    expect(lines(file).map((l) => JSON.parse(l) as Record<string, unknown>)).toEqual([
      { a: 1, "#crc": expect.stringMatching(/^[0-9a-f]{8}$/) },
      { "#crc": expect.stringMatching(/^[0-9a-f]{8}$/) },
      { b: "é\n", "#crc": expect.stringMatching(/^[0-9a-f]{8}$/) },
    ]);
    expect(Journal.readChecked(file)).toEqual([{ a: 1 }, {}, { b: "é\n" }]);
  });

  test("a record that is not a JSON object is refused alone; the records around it are written", async () => {
    const file = join(tempDir(), "j.log");
    const j = new Journal(file);
    const first = j.append({ n: 0 });
    await expect(j.append([1, 2])).rejects.toThrow(/journal records are JSON objects/);
    expect(() => j.appendLazy("text")).toThrow(/journal records are JSON objects/);
    await Promise.all([first, j.append({ n: 1 })]);
    j.close();
    expect(Journal.readChecked(file)).toEqual([{ n: 0 }, { n: 1 }]);
  });

  test("lazy and synced appends interleaved keep the chain in file order", async () => {
    const file = join(tempDir(), "j.log");
    const j = new Journal(file);
    const synced = j.append({ n: 0 });
    j.appendLazy({ n: 1 });
    await Promise.all([synced, j.append({ n: 2 })]);
    j.close();
    expect(Journal.scan(file).damage).toBeUndefined();
    expect(
      Journal.readChecked<{ n: number }>(file)
        .map((r) => r.n)
        .sort(),
    ).toEqual([0, 1, 2]);
  });

  test.each([
    ["a few bytes cut off the end", (f: string) => truncateSync(f, statSync(f).size - 5), 2, "no newline"],
    ["half a record appended", (f: string) => appendFileSync(f, '{"n":9,"x"'), 3, "no newline"],
    ["zeros after a crash", (f: string) => appendFileSync(f, Buffer.alloc(300)), 3, "no newline"],
  ])(
    "without a marker, a record cut short (%s) is dropped, kept aside and reported with file and bytes",
    async (_, damage, kept, reason) => {
      const file = await journalWith([{ n: 0 }, { n: 1 }, { n: 2 }]);
      const intact = offsetOf(file, kept + 1);
      damage(file);
      const size = statSync(file).size;
      const torn = readFileSync(file).subarray(intact);
      const reports: string[] = [];
      const records = Journal.readChecked<{ n: number }>(file, (l) => reports.push(l));
      const good = [0, 1, 2].slice(0, kept);
      expect(records.map((r) => r.n)).toEqual(good);
      expect(reports).toHaveLength(1);
      expect(reports[0]).toContain(file);
      expect(reports[0]).toContain(`bytes ${intact}-${size - 1}`);
      expect(reports[0]).toContain(reason);
      expect(reports[0]).toContain("cut short, so never acknowledged");
      expect(statSync(file).size).toBe(intact);
      expect(readFileSync(`${file}.torn-${intact}`)).toEqual(torn);
      // The journal goes on from the last good record.
      const j = new Journal(file);
      await j.append({ n: 3 });
      j.close();
      expect(Journal.readChecked<{ n: number }>(file).map((r) => r.n)).toEqual([...good, 3]);
    },
  );

  test("without a marker, a complete last record whose checksum fails is refused: it may have been acknowledged", async () => {
    const file = await journalWith([{ n: 0 }, { n: 1 }, { n: 2 }]);
    writeLines(file, [...lines(file).slice(0, -1), lines(file).at(-1)!.replace('"n":2', '"n":7')]);
    const before = readFileSync(file);
    expect(() => Journal.readChecked(file)).toThrow(
      new RegExp(
        `${file}: record 3 \\(line 3, byte ${offsetOf(file, 3)}\\) is damaged: checksum mismatch.*no marker`,
      ),
    );
    expect(readFileSync(file)).toEqual(before);
  });

  test.each([
    ["a flipped byte", (ls: string[]) => [ls[0]!, ls[1]!.replace('"n":1', '"n":5'), ...ls.slice(2)], 2],
    ["a deleted line", (ls: string[]) => [ls[0]!, ...ls.slice(2)], 2],
    ["a duplicated line", (ls: string[]) => [ls[0]!, ls[1]!, ls[1]!, ...ls.slice(2)], 3],
    ["two lines swapped", (ls: string[]) => [ls[0]!, ls[2]!, ls[1]!, ls[3]!], 2],
    ["a line cut short", (ls: string[]) => [ls[0]!, ls[1]!.slice(0, 5), ...ls.slice(2)], 2],
    [
      "a record without checksum after checked ones",
      (ls: string[]) => [ls[0]!, '{"n":1}', ...ls.slice(2)],
      2,
    ],
  ])(
    "damage before good records (%s): refused, naming file, record, byte and the way back; the file is unchanged",
    async (_, damage, line) => {
      const file = await journalWith([{ n: 0 }, { n: 1 }, { n: 2 }, { n: 3 }]);
      writeLines(file, damage(lines(file)));
      const before = readFileSync(file);
      const offset = offsetOf(file, line);
      let error: unknown;
      try {
        Journal.readChecked(file);
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(JournalDamageError);
      const message = (error as Error).message;
      expect(message).toContain(`${file}: record ${line} (line ${line}, byte ${offset})`);
      expect(message).toContain(`truncate -s ${offset} '${file}'`);
      expect(message).toContain("restore this file from a backup");
      expect(readFileSync(file)).toEqual(before);
      expect(existsSync(`${file}.torn-${offset}`)).toBe(false);
    },
  );

  test("records written before checksums are read as before, and checked records follow them", async () => {
    const file = join(tempDir(), "j.log");
    writeFileSync(file, '{"n":0}\n{"n":1}\n');
    const j = new Journal(file);
    await j.append({ n: 2 });
    j.close();
    const scan = Journal.scan<{ n: number }>(file);
    expect(scan.records.map((r) => r.n)).toEqual([0, 1, 2]);
    expect(scan.legacy).toBe(2);
    expect(scan.damage).toBeUndefined();
    // A legacy record is checked as JSON: one that is not, followed by others, is damage.
    writeFileSync(file, '{"n":0}\n{"n":1\n{"n":2}\n');
    expect(() => Journal.readChecked(file)).toThrow(
      /record 2 \(line 2, byte 8\) is damaged: not a JSON record/,
    );
  });

  test.runIf(existsSync("/dev/full"))(
    "a failed write closes the journal: later records are refused, never written after a half-written line",
    async () => {
      const j = new Journal("/dev/full");
      await expect(j.append({ n: 0 })).rejects.toThrow(/ENOSPC/);
      await expect(j.append({ n: 1 })).rejects.toThrow(
        /journal \/dev\/full failed \(ENOSPC.*restart the network/,
      );
      j.close();
    },
  );

  test("opening a journal whose last record is unfinished throws instead of gluing the next record to it", async () => {
    const file = await journalWith([{ n: 0 }]);
    appendFileSync(file, '{"n":1');
    expect(() => new Journal(file)).toThrow(/ends in an unfinished record/);
  });

  test("a snapshot restores only with a matching checksum and the assignment the log holds at its nonce", () => {
    const memory = Buffer.from("memory pages");
    const bytes = encodeSnapshot("assignment-7", memory);
    expect(decodeSnapshot(bytes, "assignment-7")).toEqual({ memory });
    expect(decodeSnapshot(bytes, "assignment-other")).toEqual({
      error: expect.stringContaining("assignment-7"),
    });
    expect(decodeSnapshot(bytes, undefined)).toEqual({ error: expect.stringContaining("does not hold") });
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 1]! ^= 1;
    expect(decodeSnapshot(flipped, "assignment-7")).toEqual({ error: "checksum mismatch" });
    expect(decodeSnapshot(memory, "assignment-7")).toEqual({
      error: "written before snapshots had checksums",
    });
  });
});

describe("a journal with an acknowledged-length marker", () => {
  /** A journal of `n` records, each appended and awaited (acknowledged), then closed cleanly. */
  const ackedJournal = async (n: number) => {
    const file = join(tempDir(), "j.log");
    const j = new Journal(file, { acked: true });
    for (let i = 0; i < n; i++) await j.append({ n: i });
    j.close();
    return file;
  };
  const ackedLength = (file: string) => {
    const a = readAcked(file);
    if (!a || "error" in a) throw new Error(`no readable marker beside ${file}`);
    return a.length;
  };
  /** A start's view of the journal: the records, or the error that refused it, and whether it changed. */
  const read = (file: string) => {
    const before = readFileSync(file);
    const reports: string[] = [];
    try {
      const records = Journal.readChecked<{ n: number }>(file, (l) => reports.push(l));
      return { records: records.map((r) => r.n), reports };
    } catch (err) {
      expect(readFileSync(file), "a refused read changes nothing").toEqual(before);
      return { error: (err as Error).message, reports };
    }
  };

  test("every append resolves only once the marker on disk covers it; concurrent appends share one batch", async () => {
    const file = join(tempDir(), "j.log");
    const j = new Journal(file, { acked: true });
    expect(ackedLength(file)).toBe(0);
    await j.append({ n: 0 });
    expect(ackedLength(file)).toBe(statSync(file).size);
    const batch = Array.from({ length: 20 }, (_, i) => j.append({ n: i + 1 }));
    await batch[0];
    expect(ackedLength(file)).toBe(statSync(file).size);
    await Promise.all(batch);
    expect(ackedLength(file)).toBe(statSync(file).size);
    j.close();
  });

  test.each([
    ["half a record", (f: string) => appendFileSync(f, '{"n":9,"x"'), "no newline"],
    ["zeros", (f: string) => appendFileSync(f, Buffer.alloc(300)), "no newline"],
    [
      "a whole line whose checksum fails",
      (f: string) => appendFileSync(f, `${lines(f).at(-1)!.replace('"n":2', '"n":7')}\n`),
      "checksum mismatch",
    ],
    [
      "a bad line followed by a line that reads (a stale block inside a batch)",
      (f: string) => appendFileSync(f, `{"n":3,"#crc":"00000000"}\n{"n":4}\n`),
      "checksum mismatch",
    ],
  ])(
    "written after the acknowledged length (%s): never acknowledged, so dropped, kept aside and reported",
    async (_, damage, reason) => {
      const file = await ackedJournal(3);
      const acked = statSync(file).size;
      damage(file);
      const tail = readFileSync(file).subarray(acked);
      const r = read(file);
      expect(r.records).toEqual([0, 1, 2]);
      expect(r.reports).toHaveLength(1);
      expect(r.reports[0]).toContain(`${file}: dropped a torn tail (line 4, bytes ${acked}-`);
      expect(r.reports[0]).toContain(reason);
      expect(r.reports[0]).toContain(`after the ${acked} acknowledged bytes, so it was never acknowledged`);
      expect(readFileSync(`${file}.torn-${acked}`)).toEqual(tail);
      const j = new Journal(file, { acked: true });
      await j.append({ n: 3 });
      j.close();
      expect(read(file).records).toEqual([0, 1, 2, 3]);
    },
  );

  test.each([
    [
      "a flipped byte in the last, complete record (the issue's example)",
      (f: string) => writeLines(f, [...lines(f).slice(0, -1), lines(f).at(-1)!.replace('"n":2', '"n":7')]),
      /record 3 \(line 3, byte \d+\) is damaged: checksum mismatch .*within the \d+ acknowledged bytes.*truncate -s/,
    ],
    [
      "the last record cut short",
      (f: string) => truncateSync(f, statSync(f).size - 5),
      /record 3 \(line 3, byte \d+\) is damaged: unfinished last record \(no newline\); it lies within/,
    ],
    [
      "the last record deleted",
      (f: string) => writeLines(f, lines(f).slice(0, -1)),
      /record 3 \(line 3, byte \d+\) is damaged: the file ends at byte \d+, but its first \d+ bytes were acknowledged: acknowledged records are missing.*removing its marker.*rm /,
    ],
    [
      "every record deleted",
      (f: string) => writeFileSync(f, ""),
      /record 1 \(line 1, byte 0\) is damaged: the file ends at byte 0, but its first \d+ bytes/,
    ],
    [
      "a flipped byte in a middle record",
      (f: string) => writeLines(f, [lines(f)[0]!, lines(f)[1]!.replace('"n":1', '"n":5'), lines(f)[2]!]),
      /record 2 \(line 2, byte \d+\) is damaged: checksum mismatch/,
    ],
  ])(
    "within the acknowledged length (%s): refused, naming the record and the way back; nothing changes",
    async (_, damage, expected) => {
      const file = await ackedJournal(3);
      damage(file);
      const r = read(file);
      expect(r.error).toMatch(expected);
      expect(r.error).toContain("Nothing was changed");
      expect(readdirSync(join(file, "..")).filter((f) => f.includes(".torn-"))).toEqual([]);
    },
  );

  test("a marker whose latest slot is torn falls back to the other; with both torn the read is refused", async () => {
    const file = await ackedJournal(3);
    const marker = ackedFileOf(file);
    const bytes = readFileSync(marker);
    const latest = decodeAcked(bytes);
    if ("error" in latest) throw new Error("marker unreadable");
    // The slot written last is the one with the higher sequence: tear it.
    const torn = Buffer.from(bytes);
    torn[(latest.seq % 2) * 16 + 3]! ^= 0xff;
    writeFileSync(marker, torn);
    const older = decodeAcked(torn);
    expect(older).toEqual({ length: offsetOf(file, 3), seq: latest.seq - 1 });
    // The record after the older length is kept: it reads, it was synced (the marker was being moved past it).
    expect(read(file).records).toEqual([0, 1, 2]);

    torn[((latest.seq + 1) % 2) * 16 + 3]! ^= 0xff;
    writeFileSync(marker, torn);
    const r = read(file);
    expect(r.error).toContain(`${marker} is damaged: neither of its two slots is intact`);
    expect(r.error).toContain(`rm '${marker}'`);
    expect(readFileSync(marker)).toEqual(torn);
  });
});

// One data directory with two counters, written by a real network; each case damages a copy.
const COUNTER = `Count = Count or 0
Handlers.add("inc", "Inc", function(m) Count = Count + 1; m.reply({ Data = tostring(Count) }) end)
Handlers.add("get", "Get", function(m) m.reply({ Data = tostring(Count) }) end)`;
const INCS = 6;
let base: string;
let pid: string;
let other: string;
let ids: string[];
let results: unknown[];

const messagesLog = (dir: string) => join(dir, "processes", pid, "messages.log");
const resultsLog = (dir: string) => join(dir, "compute", pid, "results.log");
const snapshotOf = (dir: string) => {
  const d = join(dir, "compute", pid);
  return join(d, readdirSync(d).find((f) => /^snapshot-\d+\.bin$/.test(f))!);
};

async function resultOf(net: Pick<Devnet, "urls">, id: string, process = pid): Promise<unknown> {
  return (await fetch(`${net.urls.cu}/result/${id}?process-id=${process}`)).json();
}

async function count(net: Pick<Devnet, "urls">, process = pid): Promise<number> {
  const d = await aoClient(net, alice.jwk).dryrun({ process, tags: [{ name: "Action", value: "Get" }] });
  return Number(d.Messages[0].Data);
}

beforeAll(async () => {
  base = tempDir();
  const net = await startDevnet({ dataDir: base, port: 0, snapshotEvery: 3 });
  const ao = aoClient(net, alice.jwk);
  pid = await ao.spawnWithCode(net, COUNTER);
  other = await ao.spawnWithCode(net, COUNTER);
  ids = [];
  for (let i = 0; i < INCS; i++)
    ids.push(await ao.message({ process: pid, signer: ao.signer, tags: [{ name: "Action", value: "Inc" }] }));
  results = await Promise.all(ids.map((id) => resultOf(net, id)));
  await net.stop();
}, 120_000);

/** A copy of the base data directory, damaged by `damage`. */
function damagedCopy(damage: (dir: string) => void): string {
  const dir = tempDir();
  cpSync(base, dir, { recursive: true });
  damage(dir);
  return dir;
}

async function startReporting(dir: string, opts: { maxLive?: number } = {}) {
  const reports: string[] = [];
  const net = await startDevnet({ dataDir: dir, port: 0, log: (l) => reports.push(l), ...opts });
  return { net, reports };
}

async function expectRefused(dir: string, ...expected: (string | RegExp)[]): Promise<string> {
  const before = hashTree(dir);
  const attempt = startDevnet({ dataDir: dir, port: 0 });
  await expect(attempt).rejects.toThrow();
  const message = await attempt.then(
    () => "",
    (err: Error) => err.message,
  );
  for (const e of expected) expect(message).toMatch(e);
  expect(hashTree(dir)).toEqual(before);
  return message;
}

/** A log as an older network wrote it, before markers: its `.acked` marker removed. */
const withoutMarker = (log: string) => rmSync(ackedFileOf(log), { force: true });

describe("a damaged messages log", () => {
  test("a byte flipped in the last, complete record of an acknowledged message: the start is refused, no file changes (issue 19, 1)", async () => {
    const dir = damagedCopy((d) => {
      const ls = lines(messagesLog(d));
      const last = ls.at(-1)!;
      const at = Math.floor(last.length / 2);
      ls[ls.length - 1] = last.slice(0, at) + (last[at] === "A" ? "B" : "A") + last.slice(at + 1);
      writeLines(messagesLog(d), ls);
    });
    const line = lines(messagesLog(dir)).length;
    const offset = offsetOf(messagesLog(dir), line);
    await expectRefused(
      dir,
      `${messagesLog(dir)}: record ${line} (line ${line}, byte ${offset}) is damaged: checksum mismatch`,
      "acknowledged bytes",
      `truncate -s ${offset} '${messagesLog(dir)}' && rm -f '${ackedFileOf(messagesLog(dir))}'`,
      "Nothing was changed",
    );
  });

  test("the last record of an acknowledged message cut short, or deleted: refused, no file changes", async () => {
    const cut = damagedCopy((d) => truncateSync(messagesLog(d), statSync(messagesLog(d)).size - 5));
    await expectRefused(
      cut,
      /is damaged: unfinished last record \(no newline\); it lies within the \d+ acknowledged bytes/,
    );
    const deleted = damagedCopy((d) => writeLines(messagesLog(d), lines(messagesLog(d)).slice(0, -1)));
    await expectRefused(
      deleted,
      /acknowledged records are missing/,
      `rm '${ackedFileOf(messagesLog(deleted))}'`,
    );
  });

  test("a tail written after the acknowledged length is dropped with a report; everything acknowledged answers as before", async () => {
    const dir = damagedCopy((d) => {
      const last = lines(messagesLog(d)).at(-1)!;
      appendFileSync(messagesLog(d), `${last.replace('"nonce":', '"nonce":1')}\n${last.slice(0, 40)}`);
    });
    const acked = statSync(messagesLog(base)).size;
    const { net, reports } = await startReporting(dir);
    try {
      expect(
        reports.some((r) =>
          r.includes(`${messagesLog(dir)}: dropped a torn tail (line ${INCS + 3}, bytes ${acked}-`),
        ),
      ).toBe(true);
      expect(await count(net)).toBe(INCS);
      for (const [i, id] of ids.entries()) expect(await resultOf(net, id)).toEqual(results[i]);
    } finally {
      await net.stop();
    }
    const again = await startReporting(dir);
    try {
      expect(await count(again.net)).toBe(INCS);
      expect(again.reports).toEqual([]);
    } finally {
      await again.net.stop();
    }
  });

  test("after the recovery the refusal names (cut the file, remove the marker), the start drops the message; its stale result and snapshot are not used", async () => {
    const dir = damagedCopy((d) => truncateSync(messagesLog(d), statSync(messagesLog(d)).size - 5));
    const message = await expectRefused(dir, /is damaged/);
    const command = /cp '.*$/.exec(message)![0];
    expect(spawnSync("sh", ["-c", command]).status).toBe(0);
    const { net, reports } = await startReporting(dir, { maxLive: 1 });
    try {
      expect(
        reports.some((r) => r.includes(resultsLog(dir)) && r.includes("messages log does not hold")),
      ).toBe(true);
      // The last Inc was given up: the others are all there.
      expect(await count(net)).toBe(INCS - 1);
      for (const [i, id] of ids.slice(0, -1).entries()) expect(await resultOf(net, id)).toEqual(results[i]);
      // A new message takes the dropped nonce; after an eviction the state comes back without the old one.
      const ao = aoClient(net, alice.jwk);
      const r = await ao.send(pid, [{ name: "Action", value: "Get" }]);
      expect(r.Messages[0].Data).toBe(String(INCS - 1));
      expect(await count(net, other)).toBe(0);
      expect(await count(net)).toBe(INCS - 1);
    } finally {
      await net.stop();
    }
    expect(existsSync(ackedFileOf(messagesLog(dir)))).toBe(true);
  });

  test("a log written before markers keeps the old rule: a last record cut short is dropped and kept aside", async () => {
    const dir = damagedCopy((d) => {
      withoutMarker(messagesLog(d));
      appendFileSync(messagesLog(d), '{"nonce":99');
    });
    const size = statSync(messagesLog(dir)).size;
    const { net, reports } = await startReporting(dir);
    try {
      expect(reports.some((r) => r.includes("dropped a torn tail") && r.includes("cut short"))).toBe(true);
      expect(await count(net)).toBe(INCS);
    } finally {
      await net.stop();
    }
    expect(readFileSync(`${messagesLog(dir)}.torn-${size - 11}`, "utf8")).toBe('{"nonce":99');
    // The start wrote the marker: from now on the log's end is known.
    expect(readAcked(messagesLog(dir))).toMatchObject({ length: size - 11 });
  });

  test.each([
    ["a flipped byte in a middle record", (f: string) => flipSignatureChar(f, 4), 4, "checksum mismatch"],
    ["a deleted middle line", (f: string) => writeLines(f, spliced(lines(f), 3, 1)), 4, "checksum mismatch"],
    [
      "a duplicated middle line",
      (f: string) => writeLines(f, spliced(lines(f), 3, 0, lines(f)[3]!)),
      5,
      "checksum mismatch",
    ],
    [
      "a line of a log written before checksums removed",
      (f: string) => {
        withoutMarker(f);
        writeLines(f, spliced(lines(f).map(legacyLine), 3, 1));
      },
      4,
      "nonce 4 where 3 comes next",
    ],
    [
      "a byte of a record written before checksums changed so that it is no longer JSON",
      (f: string) => {
        withoutMarker(f);
        writeLines(
          f,
          lines(f).map((l, i) => (i === 2 ? legacyLine(l).slice(1) : legacyLine(l))),
        );
      },
      3,
      "not a JSON record",
    ],
  ])(
    "%s: the start is refused, naming file, record and recovery, and no file changes",
    async (_, damage, line, reason) => {
      const dir = damagedCopy((d) => damage(messagesLog(d)));
      const offset = offsetOf(messagesLog(dir), line);
      await expectRefused(
        dir,
        `${messagesLog(dir)}: record ${line} (line ${line}, byte ${offset}) is damaged: ${reason}`,
        `truncate -s ${offset} '${messagesLog(dir)}'`,
        "Nothing was changed",
      );
    },
  );
});

describe("a damaged rolledback.log (the compute unit's decisions, which cannot be recomputed)", () => {
  // A process whose second message ran past the compute deadline and was rolled back, then one more.
  let rolled: string;
  let rpid: string;
  let loopId: string;
  const rollbackLog = (dir: string) => join(dir, "compute", rpid, "rolledback.log");
  const rolledLog = (dir: string) => join(dir, "processes", rpid, "messages.log");
  beforeAll(async () => {
    rolled = tempDir();
    const net = await startDevnet({ dataDir: rolled, port: 0, computeDeadlineMs: 1500 });
    const ao = aoClient(net, alice.jwk);
    rpid = await ao.spawnWithCode(net, COUNTER);
    loopId = await ao.message({
      process: rpid,
      signer: ao.signer,
      tags: [{ name: "Action", value: "Eval" }],
      data: "Count = 100; while true do end",
    });
    expect((await ao.result({ process: rpid, message: loopId })).Error).toMatch(/compute deadline/);
    await ao.send(rpid, [{ name: "Action", value: "Inc" }]);
    await net.stop();
    expect(lines(rollbackLog(rolled))).toHaveLength(1);
  }, 120_000);

  const copy = (damage: (dir: string) => void) => {
    const dir = tempDir();
    cpSync(rolled, dir, { recursive: true });
    damage(dir);
    return dir;
  };

  test("a byte flipped in its last, complete record: refused before any file changes, naming the record", async () => {
    const dir = copy((d) => {
      writeLines(rollbackLog(d), [lines(rollbackLog(d))[0]!.replace('"deadline"', '"deadlinf"')]);
      // A tail past the messages log's marker, which a start that went on would drop (a change).
      appendFileSync(rolledLog(d), '{"nonce":');
    });
    await expectRefused(
      dir,
      `${rollbackLog(dir)}: record 1 (line 1, byte 0) is damaged: checksum mismatch`,
      "acknowledged bytes",
    );
  });

  test("a tail written after its acknowledged length is dropped; the decision it holds stands", async () => {
    const dir = copy((d) => appendFileSync(rollbackLog(d), '{"nonce":3,"assignment":"x"'));
    const { net, reports } = await startReporting(dir);
    try {
      expect(reports.some((r) => r.includes(`${rollbackLog(dir)}: dropped a torn tail`))).toBe(true);
      const loop = (await resultOf(net, loopId, rpid)) as { Error?: string };
      expect(loop.Error).toMatch(/compute deadline/);
      // The rolled-back Eval's `Count = 100` never happened: one Inc counted.
      expect(await count(net, rpid)).toBe(1);
    } finally {
      await net.stop();
    }
  });
});

test("the network's CLI refuses a damaged log with the message on stderr and exit code 1, changing no file", () => {
  const dir = damagedCopy((d) => flipSignatureChar(messagesLog(d), 3));
  const before = hashTree(dir);
  const run = spawnSync(process.execPath, devnetCliArgs(dir), { encoding: "utf8", timeout: 60_000 });
  expect(run.status).toBe(1);
  expect(run.stderr).toContain(
    `devnet: ${messagesLog(dir)}: record 3 (line 3, byte ${offsetOf(messagesLog(dir), 3)}) is damaged`,
  );
  expect(hashTree(dir)).toEqual(before);
});

describe("a results log that disagrees with the messages log is recomputed, never refused", () => {
  const cases: [string, (f: string) => void, RegExp | undefined][] = [
    ["torn tail", (f) => truncateSync(f, statSync(f).size - 7), /unfinished last record/],
    [
      "flipped byte in a middle record",
      (f) =>
        writeLines(
          f,
          lines(f).map((l, i) => (i === 3 ? l.replace('"Output"', '"Outpub"') : l)),
        ),
      /checksum mismatch/,
    ],
    ["deleted middle line", (f) => writeLines(f, spliced(lines(f), 2, 1)), /checksum mismatch/],
    [
      "duplicated middle line",
      (f) => writeLines(f, spliced(lines(f), 2, 0, lines(f)[2]!)),
      /checksum mismatch/,
    ],
    [
      "longer than the messages log",
      (f) => {
        const ls = lines(f);
        const extra = JSON.parse(legacyLine(ls.at(-1)!)) as { nonce: number };
        const j = new Journal(f);
        j.appendLazy({ ...extra, nonce: extra.nonce + 1, message: "not-in-the-log" });
        j.close();
      },
      /messages log does not hold/,
    ],
    ["shorter than the messages log", (f) => writeLines(f, lines(f).slice(0, 3)), undefined],
    ["missing", (f) => rmSync(f), undefined],
    ["written before checksums", (f) => writeLines(f, lines(f).map(legacyResult)), undefined],
  ];
  test.each(cases)("%s", async (_, damage, report) => {
    const dir = damagedCopy((d) => damage(resultsLog(d)));
    const { net, reports } = await startReporting(dir);
    try {
      if (report) expect(reports.some((r) => r.includes(resultsLog(dir)) && report.test(r))).toBe(true);
      for (const [i, id] of ids.entries()) expect(await resultOf(net, id)).toEqual(results[i]);
      expect(await count(net)).toBe(INCS);
      await net.settle();
    } finally {
      await net.stop();
    }
    // The repaired log reads back whole, with no report.
    const again = await startReporting(dir);
    await again.net.stop();
    expect(again.reports.filter((r) => r.includes("results.log"))).toEqual([]);
  });
});

describe("snapshots and the other files of a data directory", () => {
  test.each([
    [
      "a flipped byte",
      (f: string) =>
        writeFileSync(
          f,
          readFileSync(f).map((b, i) => (i === 100 ? b ^ 1 : b)),
        ),
      "checksum mismatch",
    ],
    ["cut short", (f: string) => truncateSync(f, 1000), "checksum mismatch"],
    [
      "written before checksums",
      (f: string) => {
        const bytes = readFileSync(f);
        writeFileSync(f, bytes.subarray(14 + bytes.readUInt16LE(12)));
      },
      "written before snapshots had checksums",
    ],
  ])(
    "a snapshot %s is set aside with a report and the state replayed from the log",
    async (_, damage, reason) => {
      let snapshot = "";
      const dir = damagedCopy((d) => {
        snapshot = snapshotOf(d);
        damage(snapshot);
      });
      const { net, reports } = await startReporting(dir);
      try {
        expect(await count(net)).toBe(INCS);
        expect(
          reports.some((r) => r.includes(snapshot) && r.includes(reason) && r.includes(".ignored")),
        ).toBe(true);
        expect(existsSync(`${snapshot}.ignored`)).toBe(true);
      } finally {
        await net.stop();
      }
    },
  );

  test("a data directory written before checksums starts as before, then takes checked records", async () => {
    const dir = damagedCopy((d) => {
      withoutMarker(messagesLog(d));
      writeLines(messagesLog(d), lines(messagesLog(d)).map(legacyLine));
      writeLines(resultsLog(d), lines(resultsLog(d)).map(legacyResult));
      const snap = snapshotOf(d);
      const bytes = readFileSync(snap);
      writeFileSync(snap, bytes.subarray(14 + bytes.readUInt16LE(12)));
    });
    const { net, reports } = await startReporting(dir);
    try {
      expect(
        reports.some((r) => r.includes(messagesLog(dir)) && r.includes("before checksums, read as they are")),
      ).toBe(true);
      for (const [i, id] of ids.entries()) expect(await resultOf(net, id)).toEqual(results[i]);
      const r = await aoClient(net, alice.jwk).send(pid, [{ name: "Action", value: "Inc" }]);
      expect(r.Messages[0].Data).toBe(String(INCS + 1));
    } finally {
      await net.stop();
    }
    expect(JSON.parse(lines(messagesLog(dir)).at(-1)!)).toHaveProperty("#crc");
    const again = await startReporting(dir);
    try {
      expect(await count(again.net)).toBe(INCS + 1);
    } finally {
      await again.net.stop();
    }
  });

  test("a damaged wallet.json is refused without a byte of the key in the message", async () => {
    const dir = damagedCopy((d) => {
      const f = join(d, "wallet.json");
      writeFileSync(f, readFileSync(f, "utf8").slice(0, -40));
    });
    const key = JSON.parse(readFileSync(join(base, "wallet.json"), "utf8")) as Record<string, string>;
    const message = await expectRefused(
      dir,
      `${join(dir, "wallet.json")} is not valid JSON`,
      "restore it from a backup",
    );
    for (const field of ["d", "p", "q", "n"]) expect(message).not.toContain(key[field]!.slice(0, 12));
  });

  test.each(["d", "p", "q", "dp", "dq", "qi", "n", "e"])(
    "a character changed inside the key's %s in wallet.json is refused, naming the damage and never the key (issue 19, 6)",
    async (field) => {
      const key = JSON.parse(readFileSync(join(base, "wallet.json"), "utf8")) as Record<string, string>;
      const dir = damagedCopy((d) => {
        const value = key[field]!;
        const at = Math.floor(value.length / 2);
        const changed = value.slice(0, at) + (value[at] === "A" ? "B" : "A") + value.slice(at + 1);
        writeFileSync(join(d, "wallet.json"), JSON.stringify({ ...key, [field]: changed }));
      });
      const message = await expectRefused(
        dir,
        `${join(dir, "wallet.json")} is damaged: its `,
        "restore it from a backup",
      );
      for (const f of ["d", "p", "q", "n", "dp", "dq", "qi"])
        expect(message).not.toContain(key[f]!.slice(0, 12));
    },
  );

  test("every key the tests hold is whole: the check accepts what generateKeyPairSync makes", () => {
    for (const name of ["alice", "bob", "registry-owner"])
      expect(rsaKeyProblem(testWallet(name).jwk as Required<Jwk>)).toBeUndefined();
    expect(rsaKeyProblem(generateWallet() as Required<Jwk>)).toBeUndefined();
    // Whole, but not an Arweave key.
    const small = generateKeyPairSync("rsa", { modulusLength: 2048, publicExponent: 65537 });
    expect(rsaKeyProblem(small.privateKey.export({ format: "jwk" }) as Required<Jwk>)).toMatch(
      /not 4096 bits/,
    );
  });

  test("a key whole in itself but for another exponent is refused: e not 65537, or d (with dp, dq) for another e", () => {
    const e3 = generateKeyPairSync("rsa", { modulusLength: 4096, publicExponent: 3 });
    expect(rsaKeyProblem(e3.privateKey.export({ format: "jwk" }) as Required<Jwk>)).toMatch(/e is not 65537/);
    // d, dp and dq that agree with each other, p and q, but invert another exponent than e.
    const jwk = testWallet("alice").jwk as Required<Jwk>;
    const num = (b: string) => BigInt(`0x${Buffer.from(b, "base64url").toString("hex")}`);
    const b64 = (n: bigint) =>
      Buffer.from(
        n
          .toString(16)
          .padStart(2, "0")
          .replace(/^(.(..)*)$/, "0$1"),
        "hex",
      ).toString("base64url");
    const gcd = (a: bigint, b: bigint): bigint => (b === 0n ? a : gcd(b, a % b));
    const inverse = (a: bigint, m: bigint) => {
      let [r0, r1, s0, s1] = [m, a % m, 0n, 1n];
      while (r1 !== 0n) {
        const k = r0 / r1;
        [r0, r1, s0, s1] = [r1, r0 - k * r1, s1, s0 - k * s1];
      }
      return ((s0 % m) + m) % m;
    };
    const [p, q] = [num(jwk.p), num(jwk.q)];
    const lambda = ((p - 1n) * (q - 1n)) / gcd(p - 1n, q - 1n);
    let other = 65539n;
    while (gcd(other, lambda) !== 1n) other += 2n;
    const d = inverse(other, lambda);
    const forged = { ...jwk, d: b64(d), dp: b64(d % (p - 1n)), dq: b64(d % (q - 1n)) };
    expect(rsaKeyProblem(forged)).toMatch(/e·d is not 1 modulo p−1 and q−1/);
    // Trivial factors (p = 1, q = n) are refused, not divided by.
    expect(rsaKeyProblem({ ...jwk, p: b64(1n), q: jwk.n })).toMatch(/p and q are not both above 1/);
  });

  test("a missing wallet.json, or another network's, is refused: a new key would orphan every process", async () => {
    await expectRefused(
      damagedCopy((d) => rmSync(join(d, "wallet.json"))),
      /wallet\.json is missing, but .* holds processes/,
    );
    const foreign = damagedCopy((d) =>
      writeFileSync(join(d, "wallet.json"), JSON.stringify(generateWallet())),
    );
    await expectRefused(foreign, /is the key of scheduler .* but .* holds processes scheduled by/);
  });

  test("a damaged network.json is rewritten at the start: the network never reads it", async () => {
    const dir = damagedCopy((d) => writeFileSync(join(d, "network.json"), "{"));
    const { net } = await startReporting(dir);
    try {
      expect(JSON.parse(readFileSync(join(dir, "network.json"), "utf8"))).toMatchObject({
        schedulerId: net.schedulerId,
      });
    } finally {
      await net.stop();
    }
  });
});

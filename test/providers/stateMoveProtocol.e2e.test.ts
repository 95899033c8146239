/**
 * The state move across versions of the transfer protocol, on each of the local network's doors (legacy
 * units, and the mainnet front door), on the real registry and aos module through the real aoconnect:
 * - out of a process running the released registry (1.3.0, transfer protocol 1, whose State-Export
 *   answers only a dry-run claiming the owner; `fixtures/registry-protocol-1.3.0.lua`), through the
 *   provider's own update, and through the provider's move with dry-runs that carry no owner (as recent
 *   HyperBEAM builds them: STATE-TRANSFER.md), which then exports by signed messages; and back into it
 *   (a rollback into protocol 1, on the owner's word);
 * - between two 1.4.0 registries with dry-runs that carry no owner: a whole move and a whole rollback,
 *   which the process taken back confirms itself (State-Confirm).
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ActiveInputs,
  ActiveProcessProvider,
  checkActiveInputs,
  processFields,
} from "../../providers/activeProcess";
import type { AoClient } from "../../providers/aoApi";
import { checkInputs, Provider } from "../../providers/aoProcess";
import { fileBackupStore } from "../../providers/backupStore";
import { bundleLua } from "../../providers/bundle";
import { pipelineEnv } from "../../providers/effects";
import { moveStateWith } from "../../providers/stateMove";
import { transferClient } from "../../providers/stateTransfer";
import type { Endpoints, Inputs, Outputs } from "../../providers/types";
import { aoClient, type Devnet, withDevnet } from "../support/devnet";
import { testWallet, walletInEnv } from "../support/wallets";
import { MODES, type Mode, networkInputs } from "./support/network";

const ROOT = path.join(__dirname, "..", "..");
const CURRENT = bundleLua(path.join(ROOT, "ao-process", "registry.lua")).code;
const RELEASED = readFileSync(
  path.join(ROOT, "ao-process", "test", "fixtures", "registry-protocol-1.3.0.lua"),
  "utf8",
);
/** The code with a different hash, so that each process is a replacement. */
const edition = (code: string, n: number) => `${code}\n-- edition ${n}\n`;

let net: Devnet & { cleanup(): Promise<void> };
const owner = testWallet("protocol-move-owner");
const publisher = testWallet("protocol-move-publisher");
const aoProcess = new Provider();
const active = new ActiveProcessProvider();
const backupDir = mkdtempSync(path.join(tmpdir(), "protocol-move-backups-"));
let restoreEnv: () => void;
let editions = 0;

beforeAll(async () => {
  net = await withDevnet();
  restoreEnv = walletInEnv(owner.jwk);
});
afterAll(async () => {
  await net?.cleanup();
  restoreEnv?.();
});

type Tag = { name: string; value: string };
const tagsOf = (m: { Tags?: Tag[] }) => Object.fromEntries((m.Tags ?? []).map((t) => [t.name, t.value]));
const clients = new Map<string, ReturnType<typeof aoClient>>();
const clientOf = (w: typeof owner) => {
  const c = clients.get(w.address) ?? aoClient(net, w.jwk);
  clients.set(w.address, c);
  return c;
};

/** A request as the CLI sends it (both doors serve one network): the reply's tags and body. */
async function ask(pid: string, action: string, data: unknown = {}, write = false) {
  const c = clientOf(publisher);
  const tags = [{ name: "Action", value: action }];
  const r = write
    ? await c.send(pid, tags, JSON.stringify(data))
    : await c.dryrun({ process: pid, tags, data: JSON.stringify(data), Owner: publisher.address });
  const reply = (r.Messages ?? []).find((m: { Tags?: Tag[] }) => tagsOf(m).Action === `${action}-Response`);
  expect(reply, `${action} answered`).toBeDefined();
  const body = JSON.parse(reply.Data) as Record<string, unknown> & { ok: boolean };
  expect(body.ok, `${action}: ${reply.Data}`).toBe(true);
  return { tags: tagsOf(reply), body };
}

const txId = (i: number) => `tx${String(i).padStart(41, "0")}`;
const hash = (i: number) => i.toString(16).padStart(64, "0");

async function populate(pid: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const name = `skill-${String(i).padStart(4, "0")}`;
    await ask(
      pid,
      "Register-Skill",
      {
        name,
        description: `skill ${i} ✓`,
        tags: ["pdf"],
        version: "1.0.0",
        txId: txId(i),
        contentHash: hash(i),
      },
      true,
    );
  }
}

/** Everything a client reads: every skill in detail, in name order. */
async function everything(pid: string): Promise<unknown[]> {
  const out: unknown[] = [];
  let cursor: string | null = null;
  do {
    const page = await ask(pid, "List-Skills", { limit: 100, ...(cursor ? { cursor } : {}) });
    for (const s of page.body.skills as { name: string }[]) {
      out.push((await ask(pid, "Get-Skill", { name: s.name })).body.skill);
    }
    cursor = page.body.nextCursor as string | null;
  } while (cursor);
  return out;
}

const stateInfo = async (pid: string) =>
  (await ask(pid, "State-Info")).body.stateTransfer as {
    protocol: number;
    status: string;
    digest: string;
    entries: number;
    successor: string | null;
    predecessor: string | null;
  };

/** A process deployed by the AoProcess provider with `code`, opened by the active process's create. */
async function deployed(code: string, mode: Mode): Promise<Outputs> {
  const { inputs, failures } = checkInputs({
    ...networkInputs(net, "protocol-move", mode),
    code: edition(code, ++editions),
    stateTransfer: true,
  });
  expect(failures).toEqual([]);
  return (await aoProcess.create(inputs as Inputs)).outs!;
}

function activeInputs(p: Outputs): ActiveInputs {
  const { inputs, failures } = checkActiveInputs({ ...processFields(p), backupDir, pageBytes: 1024 });
  expect(failures).toEqual([]);
  return inputs!;
}

/**
 * The provider's move (stateMove.ts over stateTransfer.ts, its real network client) with a client whose
 * dry-runs carry no owner; records the owner each dry-run was given and the action of each message.
 */
function noOwnerMover(endpoints: Endpoints) {
  const env = pipelineEnv(endpoints, owner.jwk);
  const dryRunOwners: (string | undefined)[] = [];
  const messages: string[] = [];
  const client: AoClient = {
    ...env.client,
    dryrun({ owner: claimed, ...args }) {
      dryRunOwners.push(claimed);
      return env.client.dryrun(args);
    },
    message(args) {
      messages.push(args.tags.find((t) => t.name === "Action")?.value ?? "");
      return env.client.message(args);
    },
  };
  const clientFor = (id: string) =>
    transferClient({ client, retry: env.retry }, endpoints, id, owner.address);
  const move = (from: string, to: string) =>
    moveStateWith({ log: () => {}, now: () => new Date(), backup: fileBackupStore(backupDir) })({
      from: clientFor(from),
      to: clientFor(to),
      wallet: owner.address,
      pageBytes: 1024,
      clientFor,
    });
  return { move, dryRunOwners, messages };
}

for (const mode of MODES) {
  describe(`${mode}: out of the released registry (1.3.0, transfer protocol 1)`, () => {
    it("the provider's update moves every record out of it", async () => {
      const a = await deployed(RELEASED, mode);
      const activeA = (await active.create(activeInputs(a))).outs!;
      expect(await stateInfo(a.processId)).toMatchObject({ protocol: 1, status: "open" });
      await populate(a.processId, 4);
      const before = await everything(a.processId);
      const b = await deployed(CURRENT, mode);
      const moved = (await active.update("active", activeA, activeInputs(b))).outs!;
      expect(moved).toMatchObject({ processId: b.processId, previousProcessId: a.processId });
      expect(await stateInfo(b.processId)).toMatchObject({
        protocol: 2,
        status: "open",
        digest: (await stateInfo(a.processId)).digest,
        predecessor: a.processId,
      });
      expect(await everything(b.processId)).toEqual(before);
    }, 300_000);

    it("with dry-runs that carry no owner, it exports by signed messages; and the state moves back into it", async () => {
      const a = await deployed(RELEASED, mode);
      await active.create(activeInputs(a));
      await populate(a.processId, 4);
      const before = await everything(a.processId);
      const b = await deployed(CURRENT, mode);
      const m = noOwnerMover(a.endpoints);
      const report = await m.move(a.processId, b.processId);
      expect(report).toMatchObject({ alreadyDone: false, entries: 8 });
      expect(report.pages).toBeGreaterThan(1);
      // The owner's dry-run, refused without the owner, once; then one signed State-Export per page.
      expect(m.messages.filter((x) => x === "State-Export")).toHaveLength(report.pages);
      expect(await everything(b.processId)).toEqual(before);

      // A write in the new process, then the state goes back into the released one (protocol 1 takes it
      // on the owner's word: nothing to confirm).
      await ask(
        b.processId,
        "Publish-Version",
        { name: "skill-0000", version: "2.0.0", txId: txId(99), contentHash: hash(99) },
        true,
      );
      const wanted = await everything(b.processId);
      const back = await m.move(b.processId, a.processId);
      expect(back).toMatchObject({ from: b.processId, to: a.processId, alreadyDone: false });
      expect(m.messages).not.toContain("State-Confirm");
      expect(await stateInfo(a.processId)).toMatchObject({
        protocol: 1,
        status: "open",
        predecessor: b.processId,
      });
      expect(await stateInfo(b.processId)).toMatchObject({ status: "frozen", successor: a.processId });
      expect(await everything(a.processId)).toEqual(wanted);
      expect(m.dryRunOwners.filter((o) => o !== undefined)).toHaveLength(1);
    }, 300_000);
  });

  describe(`${mode}: between 1.4.0 registries, with dry-runs that carry no owner`, () => {
    it("a whole move, and a whole rollback confirmed by the process taken back", async () => {
      const a = await deployed(CURRENT, mode);
      await active.create(activeInputs(a));
      await populate(a.processId, 4);
      const before = await everything(a.processId);
      const b = await deployed(CURRENT, mode);
      const m = noOwnerMover(a.endpoints);
      await m.move(a.processId, b.processId);
      expect(await everything(b.processId)).toEqual(before);
      await ask(
        b.processId,
        "Publish-Version",
        { name: "skill-0001", version: "2.0.0", txId: txId(98), contentHash: hash(98) },
        true,
      );
      const wanted = await everything(b.processId);
      const digest = (await stateInfo(b.processId)).digest;

      const back = await m.move(b.processId, a.processId);
      expect(back).toMatchObject({ digest, alreadyDone: false });
      expect(m.messages).toContain("State-Confirm");
      expect(await stateInfo(a.processId)).toMatchObject({
        protocol: 2,
        status: "open",
        digest,
        predecessor: b.processId,
      });
      expect(await everything(a.processId)).toEqual(wanted);
      // Not one dry-run of either move claimed an owner: none was needed.
      expect(m.dryRunOwners.length).toBeGreaterThan(4);
      expect(m.dryRunOwners.every((o) => o === undefined)).toBe(true);
    }, 300_000);
  });
}

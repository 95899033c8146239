/**
 * Talks to the registry process the way the CLI does: the unmodified aoconnect client against a local
 * AO network, messages for writes and dry-runs for reads. Deploys exactly what production deploys:
 * `providers/bundle.ts` output wrapped with the `providers/footer.ts` proof of code.
 */
import * as path from "node:path";
import { expect } from "vitest";
import { bundleLua } from "../../../providers/bundle";
import { wrapWithFooter } from "../../../providers/footer";
import { sha256Hex } from "../../../providers/hash";
import { aoClient, type Devnet } from "../../../test/support/devnet";
import { testWallet } from "../../../test/support/wallets";

export const ENTRY = path.join(__dirname, "..", "..", "registry.lua");

type Client = ReturnType<typeof aoClient>;
type Tag = { name: string; value: string };

/** A JSON value as the registry replies it (kept loose: tests assert the shape). */
// biome-ignore lint/suspicious/noExplicitAny: reply bodies are checked by assertions, not by types
export type Body = any;

export interface Reply {
  status: "OK" | "Error";
  tags: Record<string, string>;
  body: Body;
  /** The `Error-Code` tag, for failures. */
  code?: string;
  /** Where the reply was sent. */
  target?: string;
}

export function registryCode(): { code: string; sha256: string } {
  const { code } = bundleLua(ENTRY);
  return { code, sha256: sha256Hex(code) };
}

export interface Actor {
  name: string;
  address: string;
  client: Client;
}

export function actor(net: Pick<Devnet, "urls">, name: string): Actor {
  const w = testWallet(name);
  return { name, address: w.address, client: aoClient(net, w.jwk) };
}

function tagMap(tags: Tag[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of tags ?? []) out[t.name] = t.value;
  return out;
}

function parseReply(
  messages: { Tags?: Tag[]; Data?: string; Target?: string }[],
  action: string,
  from: string,
): Reply {
  const replies = messages.filter((m) => tagMap(m.Tags).Action === `${action}-Response`);
  expect(replies, `exactly one ${action}-Response`).toHaveLength(1);
  const m = replies[0]!;
  const tags = tagMap(m.Tags);
  const body = JSON.parse(m.Data ?? "") as Body;
  const status = tags.Status as Reply["status"];
  expect(["OK", "Error"]).toContain(status);
  expect(body.ok).toBe(status === "OK");
  expect(m.Target, "the reply goes to the sender").toBe(from);
  return { status, tags, body, code: tags["Error-Code"], target: m.Target };
}

/** aoconnect's legacy mode answers `message` with the message ID. */
export function messageId(sent: string | { id: string }): string {
  return typeof sent === "string" ? sent : sent.id;
}

/** Spawns an aos process on the network's module and scheduler, owned by `owner`. */
export async function spawnProcess(net: Devnet, owner: Actor, name: string): Promise<string> {
  return owner.client.spawn({
    module: net.moduleId,
    scheduler: net.schedulerId,
    signer: owner.client.signer,
    tags: [
      { name: "Authority", value: net.authority },
      { name: "Name", value: name },
    ],
  });
}

/** Sends an Eval of `code` and fails on an evaluation error. */
export async function evalCode(owner: Actor, processId: string, code: string): Promise<void> {
  const id = messageId(
    await owner.client.message({
      process: processId,
      signer: owner.client.signer,
      tags: [{ name: "Action", value: "Eval" }],
      data: code,
    }),
  );
  const res = await owner.client.result({ process: processId, message: id });
  expect(res.Error, "Eval error").toBeFalsy();
}

/**
 * Deploys the registry as the AoProcess resource does: bundle + footer (sha256, deployment ID). A new
 * process starts sealed (state-transfer protocol); then, as a deploy with nothing to move does, the owner
 * opens it with `State-Open` (a no-op on a process already open), unless `open: false` keeps it sealed.
 */
export async function deployRegistry(
  owner: Actor,
  processId: string,
  deploymentId: string,
  { open = true }: { open?: boolean } = {},
): Promise<{ sha256: string }> {
  const { code, sha256 } = registryCode();
  await evalCode(owner, processId, wrapWithFooter(code, { sha256, deploymentId }));
  if (open) expectOk(await new Registry(processId).send(owner, "State-Open", {}));
  return { sha256 };
}

export class Registry {
  constructor(readonly processId: string) {}

  /** Sends a real (signed, scheduled) message and returns the registry's reply. */
  async send(as: Actor, action: string, data: unknown, extraTags: Tag[] = []): Promise<Reply> {
    const id = messageId(
      await as.client.message({
        process: this.processId,
        signer: as.client.signer,
        tags: [{ name: "Action", value: action }, ...extraTags],
        data: typeof data === "string" ? data : JSON.stringify(data),
      }),
    );
    const res = await as.client.result({ process: this.processId, message: id });
    // A bad request must never raise out of a handler.
    expect(res.Error, `${action} raised`).toBeFalsy();
    return parseReply(res.Messages, action, as.address);
  }

  /**
   * A dry-run, the way the CLI reads: evaluated but never recorded. It claims `as` as its Owner, unless
   * `owner` says otherwise: "" is what recent HyperBEAM passes (it drops a dry-run's signature before
   * building its message), "1234" what aoconnect's legacy dry-run sends when given none.
   */
  async read(
    as: Actor,
    action: string,
    data: unknown = {},
    extraTags: Tag[] = [],
    { owner = as.address }: { owner?: string } = {},
  ): Promise<Reply> {
    const res = await as.client.dryrun({
      process: this.processId,
      Owner: owner,
      tags: [{ name: "Action", value: action }, ...extraTags],
      data: typeof data === "string" ? data : JSON.stringify(data),
    });
    expect(res.Error, `${action} raised`).toBeFalsy();
    return parseReply(res.Messages, action, owner);
  }

  async counts(as: Actor): Promise<Record<string, number>> {
    const info = await this.read(as, "Info");
    return info.body.counts as Record<string, number>;
  }
}

/** Asserts an error reply with `code`, and returns it. */
export function expectError(reply: Reply, code: string): Reply {
  expect(reply.status, JSON.stringify(reply.body)).toBe("Error");
  expect(reply.code).toBe(code);
  expect(reply.body.error.code).toBe(code);
  expect(typeof reply.body.error.message).toBe("string");
  expect(reply.body.error.message.length).toBeGreaterThan(10);
  return reply;
}

export function expectOk(reply: Reply): Body {
  expect(reply.status, JSON.stringify(reply.body)).toBe("OK");
  return reply.body;
}

/**
 * The wall clock. Not `Date.now()`: @permaweb/ao-loader replaces `Date.now` with a deterministic counter
 * in the whole Node process once a module is loaded, and the local network runs in this process.
 */
// biome-ignore lint/complexity/useDateNow: Date.now is the patched one (see above)
export const wallClock = (): number => new Date().getTime();

/** A fake but well-formed Arweave transaction ID / content hash, distinct per seed. */
export const txId = (seed: string) => (seed.replace(/[^A-Za-z0-9_-]/g, "_") + "x".repeat(43)).slice(0, 43);
export const contentHash = (seed: number) => seed.toString(16).padStart(64, "0");

/**
 * The mainnet client's lookup of a message whose reply was lost, page by page through the schedule
 * route, against a small HTTP server that stands for the node (the route's real answers are tested
 * against the local network in faults.e2e.test.ts): it starts at the slot after the one current before
 * the send, follows `has_next_page`, finds the item by its ID, and gives up, saying so, after its bound.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createMainnetClient } from "../../providers/mainnetClient";
import { testWallet } from "../support/wallets";

const PID = "P".repeat(43);
const deployer = testWallet("aoprocess-deployer");
const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

/** A node: slot 7 is current before the send, the push's reply is lost, the schedule answers `page`. */
async function fakeNode(page: (from: number) => { ids: string[]; more: boolean }) {
  const froms: number[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    req.resume();
    if (url.pathname.endsWith("/slot/current")) return res.end("7");
    if (url.pathname.endsWith("~process@1.0/push")) return req.socket.destroy();
    if (url.pathname === "/~scheduler@1.0/schedule") {
      const from = Number(url.searchParams.get("from"));
      froms.push(from);
      const { ids, more } = page(from);
      res.setHeader("content-type", "application/json");
      return res.end(
        JSON.stringify({
          page_info: { has_next_page: more },
          edges: ids.map((Id, i) => ({ cursor: String(from + i), node: { message: { Id } } })),
        }),
      );
    }
    res.statusCode = 404;
    res.end("no route");
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const node = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { node, froms };
}

/** Sends one message (its reply lost), then asks where it went. */
async function sendThenLookup(node: string) {
  const client = createMainnetClient({ network: "mainnet", node }, deployer.jwk);
  const sender = client.sender({ process: PID, tags: [{ name: "Action", value: "Eval" }], data: "1" });
  await expect(sender.send()).rejects.toThrow(/could not be reached|fetch failed|socket/);
  return { id: sender.signedId()!, lookup: () => sender.lookup() };
}

describe("the mainnet lookup of a message by its ID", () => {
  it("reads from the slot after the current one, across pages, and answers the slot it was given", async () => {
    let id = "";
    const { node, froms } = await fakeNode((from) =>
      from === 8
        ? { ids: ["x".repeat(43), "y".repeat(43)], more: true }
        : { ids: ["z".repeat(43), id], more: false },
    );
    const sent = await sendThenLookup(node);
    id = sent.id;
    expect(await sent.lookup()).toEqual({ slot: 11 });
    expect(froms).toEqual([8, 10]);
  });

  it("answers not scheduled when the schedule ends without it", async () => {
    const { node } = await fakeNode(() => ({ ids: ["x".repeat(43)], more: false }));
    expect(await (await sendThenLookup(node)).lookup()).toBeUndefined();
  });

  it("gives up after 20 pages, naming the message, the process and the slot it read from", async () => {
    const { node, froms } = await fakeNode(() => ({ ids: ["x".repeat(43)], more: true }));
    const sent = await sendThenLookup(node);
    await expect(sent.lookup()).rejects.toThrow(
      `could not tell whether message ${sent.id} was scheduled on process ${PID}: more than 20 pages of its schedule since slot 8`,
    );
    expect(froms).toHaveLength(20);
  });
});

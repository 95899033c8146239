/**
 * Two released aoconnects run one script (spawn, message, result, dry-run) against both front doors of
 * the local network: 0.0.93, the one ao-deploy 0.11 ships (mainnet results through `compute=<slot>`,
 * read as `results.raw`), and 0.0.98, the provider's (`compute/results=<slot>`, read as `raw`). On the
 * mainnet door each spawns as the aos CLI 2.0.16 and ao-deploy do: naming AO mainnet's scheduler (listed
 * by default, so the network schedules it itself) with the node's address as authority.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { MAINNET_SCHEDULER } from "../../devnet";
import type { Jwk } from "../../providers/wallet";
import { type Devnet, withDevnet } from "../support/devnet";
import type { Tag } from "../support/mainnetClient";
import { testWallet } from "../support/wallets";

/** Each release, as an npm alias (package.json devDependencies), loaded through its ESM build. */
const CLIENTS = { "0.0.93": "aoconnect-0.0.93/node", "0.0.98": "@permaweb/aoconnect/node" } as const;
const DOORS = ["legacy", "mainnet"] as const;

interface Aoconnect {
  connect(args: Record<string, unknown>): {
    spawn(a: Record<string, unknown>): Promise<string>;
    message(a: Record<string, unknown>): Promise<unknown>;
    result(a: Record<string, unknown>): Promise<{ Messages: { Data?: string }[]; Error?: unknown }>;
    dryrun(a: Record<string, unknown>): Promise<{ Messages: { Data?: string }[] }>;
  };
  createSigner(jwk: Jwk): unknown;
  createDataItemSigner(jwk: Jwk): unknown;
}

let net: Devnet & { cleanup(): Promise<void> };
const alice = testWallet("alice");

beforeAll(async () => {
  net = await withDevnet();
});
afterAll(async () => {
  await net?.cleanup();
});

const COUNTER = `N = N or 0
Handlers.add("bump", "Bump", function(m) N = N + 1; m.reply({ Data = tostring(N) }) end)
Handlers.add("peek", "Peek", function(m) m.reply({ Data = tostring(N) }) end)`;

/** The script: spawn, Eval a counter, bump it twice (reading each result), then read it by dry-run. */
async function script(client: Aoconnect, door: (typeof DOORS)[number]) {
  const mainnet = door === "mainnet";
  const ao = mainnet
    ? client.connect({
        MODE: "mainnet",
        URL: net.urls.node,
        SCHEDULER: MAINNET_SCHEDULER,
        signer: client.createSigner(alice.jwk),
      })
    : client.connect({
        MODE: "legacy",
        MU_URL: net.urls.mu,
        CU_URL: net.urls.cu,
        GATEWAY_URL: net.urls.gateway,
      });
  const signer = client.createDataItemSigner(alice.jwk);
  // As aos 2.0.16's resolveAuthority: the node's own address, read from it.
  const authority = mainnet
    ? await (await fetch(`${net.urls.node}/~meta@1.0/info/address`)).text()
    : undefined;
  const process = await ao.spawn({
    module: net.moduleId,
    ...(mainnet ? { authority } : { scheduler: net.schedulerId, signer }),
    tags: [{ name: "Name", value: `clients-${door}` }] satisfies Tag[],
  });
  const send = async (tags: Tag[], data?: string) => {
    const sent = await ao.message({
      process,
      tags,
      ...(data ? { data } : {}),
      ...(mainnet ? {} : { signer }),
    });
    return ao.result(mainnet ? { process, slot: sent } : { process, message: sent });
  };
  const evaluated = await send([{ name: "Action", value: "Eval" }], COUNTER);
  const bumps = [
    await send([{ name: "Action", value: "Bump" }]),
    await send([{ name: "Action", value: "Bump" }]),
  ];
  const peek = await ao.dryrun({ process, tags: [{ name: "Action", value: "Peek" }], data: "{}" });
  return { process, evaluated, bumps, peek };
}

describe.each(Object.keys(CLIENTS) as (keyof typeof CLIENTS)[])("aoconnect %s", (version) => {
  test.each(DOORS)("runs spawn, message, result and dry-run against the %s door", async (door) => {
    const client = (await import(CLIENTS[version])) as Aoconnect;
    const { process, evaluated, bumps, peek } = await script(client, door);
    expect(process).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(evaluated.Error).toBeUndefined();
    expect(bumps.map((r) => r.Messages[0]?.Data)).toEqual(["1", "2"]);
    expect(peek.Messages[0]?.Data).toBe("2");
    const spawn = (await (await fetch(`${net.urls.su}/${process}`)).json()) as {
      edges: { node: { message: { tags: Tag[] } } }[];
    };
    const tags = spawn.edges[0]!.node.message.tags;
    expect(tags).toContainEqual({
      name: "Scheduler",
      value: door === "mainnet" ? MAINNET_SCHEDULER : net.schedulerId,
    });
    if (door === "mainnet") expect(tags).toContainEqual({ name: "Authority", value: net.nodeAddress });
  });
});

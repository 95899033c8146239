import { DEPLOYMENT_ID_TAG, type Endpoints } from "../../../providers/aoValues";
import type { Jwk } from "../../../providers/wallet";
import { aoClient, type Devnet, graphql } from "../../support/devnet";

/** Every process spawned with this deployment ID, as the gateway lists them. */
export async function spawnsOf(net: Pick<Devnet, "urls">, deploymentId: string): Promise<string[]> {
  const data = await graphql<{ transactions: { edges: { node: { id: string } }[] } }>(
    net,
    `query($tag: String!, $id: String!) { transactions(tags: [{ name: $tag, values: [$id] }], first: 10) { edges { node { id } } } }`,
    { tag: DEPLOYMENT_ID_TAG, id: deploymentId },
  );
  return data.transactions.edges.map((e) => e.node.id);
}

/** The tags of a process's spawn, as the gateway indexes them. */
export async function spawnTagsOf(
  net: Pick<Devnet, "urls">,
  processId: string,
): Promise<Record<string, string>> {
  const data = await graphql<{
    transactions: { edges: { node: { tags: { name: string; value: string }[] } }[] };
  }>(net, `query($id: ID!) { transactions(ids: [$id]) { edges { node { tags { name value } } } } }`, {
    id: processId,
  });
  return Object.fromEntries((data.transactions.edges[0]?.node.tags ?? []).map((t) => [t.name, t.value]));
}

/** The tags of a process's reply to a dry-run `Info`, as a record. */
export async function infoTags(
  net: Pick<Devnet, "urls">,
  wallet: { jwk: Jwk; address: string },
  processId: string,
): Promise<Record<string, string>> {
  const res = await aoClient(net, wallet.jwk).dryrun({
    process: processId,
    tags: [{ name: "Action", value: "Info" }],
    data: "{}",
    Owner: wallet.address,
  });
  const tags: Record<string, string> = {};
  for (const m of res.Messages ?? []) for (const t of m.Tags ?? []) tags[t.name] = t.value;
  return tags;
}

/** Both networks the local network serves: the provider's every e2e runs in each. */
export const MODES = ["legacy", "mainnet"] as const;
export type Mode = (typeof MODES)[number];

/** The local network's endpoints in a mode: its legacy units, or its mainnet front door. */
export function endpointsIn(net: Pick<Devnet, "urls">, mode: Mode): Endpoints {
  return mode === "mainnet"
    ? { network: "mainnet", node: net.urls.node! }
    : { mu: net.urls.mu, cu: net.urls.cu, gateway: net.urls.gateway };
}

/**
 * The AoProcess inputs that target a local network: module, scheduler, authority, endpoints, name. The
 * network has a key per role: in legacy mode the authority is the messenger's address, pinned as the
 * stack config pins it; in mainnet mode none is given, as in production: the provider reads the node's
 * own address (it signs what the node pushes) when it creates the process.
 */
export function networkInputs(
  net: Pick<Devnet, "urls" | "moduleId" | "schedulerId" | "authority">,
  name: string,
  mode: Mode = "legacy",
): Record<string, unknown> {
  return {
    module: net.moduleId,
    scheduler: net.schedulerId,
    ...(mode === "legacy" ? { authority: net.authority } : {}),
    name,
    tags: { "App-Name": name },
    endpoints: endpointsIn(net, mode),
  };
}

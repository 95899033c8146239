/**
 * `<data>/network.json`: how a running local AO network describes itself. devnet/index.ts writes it
 * (and serves the same document at `/info`); the stack config (infra/config.ts), `npm run deploy:dev`
 * and the tests read it through `parseNetworkFile`, so writer and readers share one type and one schema.
 *
 *   {
 *     "urls": { "mu": "http://127.0.0.1:4000", "cu": ..., "su": "http://127.0.0.1:4000/su", "gateway": ...,
 *               "node": <the mainnet front door, HyperBEAM's routes: aoconnect's URL in mainnet mode> },
 *     "modules": [{ "id": "<43-character module ID>", "aosVersion": "2.0.x", "default": true }],
 *     "moduleId": "<the default module's ID>",
 *     "schedulerId": "<the scheduler's address: a process's Scheduler tag>",
 *     "authority": "<the legacy messenger's address, which signs what legacy processes emit: their
 *                    Authority tag>",
 *     "nodeAddress": "<the mainnet node's address (GET /~meta@1.0/info/address), which signs what mainnet
 *                      processes emit: their Authority tag>",
 *     "keys": "distinct" | "shared" (one key per role, or the scheduler's for all: devnet/dataDir.ts),
 *     "pid": <the network's process ID, while it runs (devnet/inUse.ts)>
 *   }
 */

import { z } from "zod";
import { aoIdSchema, endpointUrlSchema, propertyOf } from "../providers/aoValues";
import { writeFileDurably } from "../providers/durableFile";

export const networkInfoSchema = z.object({
  urls: z.object({
    mu: endpointUrlSchema(),
    cu: endpointUrlSchema(),
    su: endpointUrlSchema(),
    gateway: endpointUrlSchema(),
    /** The mainnet front door (HyperBEAM's routes, aoconnect's `URL` in mainnet mode); absent in files
     * written before it existed. */
    node: endpointUrlSchema().optional(),
    /** A second mainnet door that schedules but computes nothing (startDevnet's scheduleOnlyNode). */
    scheduleOnlyNode: endpointUrlSchema().optional(),
  }),
  modules: z
    .array(z.object({ id: aoIdSchema(), aosVersion: z.string(), default: z.boolean() }))
    .min(1, { message: "is empty: the network serves at least one module" }),
  moduleId: aoIdSchema(),
  schedulerId: aoIdSchema(),
  authority: aoIdSchema(),
  /** The mainnet node's own address; absent in files written before role keys (then: schedulerId). */
  nodeAddress: aoIdSchema().optional(),
  keys: z.enum(["distinct", "shared"]).optional(),
  /** The running network's process ID, so that a second start can say what holds the directory or port. */
  pid: z.number().int().positive().optional(),
});

export type NetworkInfo = z.infer<typeof networkInfoSchema>;

/**
 * What a network at `baseUrl` says about itself: one origin serves every unit and the mainnet front door;
 * the first module is the default; `address` is the scheduler's, and the messenger and the node have
 * theirs (the scheduler's when they share its key).
 */
export function describeNetwork(
  baseUrl: string,
  modules: { id: string; aosVersion: string }[],
  address: string,
  roles: { messenger?: string; node?: string; scheduleOnlyNode?: string } = {},
): NetworkInfo {
  const messenger = roles.messenger ?? address;
  const node = roles.node ?? address;
  return {
    urls: {
      mu: baseUrl,
      cu: baseUrl,
      su: `${baseUrl}/su`,
      gateway: baseUrl,
      node: baseUrl,
      ...(roles.scheduleOnlyNode ? { scheduleOnlyNode: roles.scheduleOnlyNode } : {}),
    },
    modules: modules.map((m, i) => ({ id: m.id, aosVersion: m.aosVersion, default: i === 0 })),
    moduleId: modules[0]!.id,
    schedulerId: address,
    authority: messenger,
    nodeAddress: node,
    keys: messenger === address && node === address ? "shared" : "distinct",
  };
}

/** Parses and checks a network.json. Throws a plain Error naming the file and every problem. */
export function parseNetworkFile(text: string, file: string): NetworkInfo {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file} is not valid JSON (${(e as Error).message})`);
  }
  const parsed = networkInfoSchema.safeParse(data);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${propertyOf(i.path) || "the document"} ${i.message}`);
  throw new Error(`${file} is not a local network description: ${problems.join("; ")}`);
}

/**
 * Writes network.json atomically (a reader never sees half a file). Not checked here: a network that
 * listens on a non-loopback host over plain http still starts; the readers say what is wrong.
 */
export function writeNetworkFile(file: string, info: NetworkInfo): void {
  // Durably (temp, fsync, rename, directory fsync): a crash never leaves a half-written file.
  writeFileDurably(file, `${JSON.stringify(info, null, 2)}\n`);
}

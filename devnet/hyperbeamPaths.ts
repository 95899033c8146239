/**
 * The HyperBEAM paths that the unmodified `@permaweb/aoconnect` requests in mainnet mode (0.0.98 and
 * 0.0.93, src/client/ao-core.js), and the scheduler's schedule route, parsed into what the mainnet front
 * door (devnet/hyperbeam.ts) serves. Pure.
 *
 *   GET  /~meta@1.0/info/address                         the node's address (text)
 *   POST /push                                           spawn
 *   POST /<pid>~process@1.0/push                         message, answered with its slot and result
 *   POST /<pid>~process@1.0/compute/results=<slot>       result of a slot (0.0.98 `result`)
 *   POST /<pid>/compute/results=<slot>                   the same (0.0.98 `results`)
 *   POST /<pid>~process@1.0/compute=<slot>               the process computed to a slot (<= 0.0.97 `result`)
 *   POST /<pid>/compute=<slot>                           the same (<= 0.0.97 `results`)
 *   POST /<pid>/slot/current                             the latest slot (text, `results`)
 *   POST /<pid>~process@1.0/as=execution/compute&<Name>=<value>&…   dry-run, its tags in the path
 *   GET  /~scheduler@1.0/schedule?target=<pid>&from=&to=&accept=application/aos-2
 *                                                        a process's assignments (dev_scheduler get_schedule)
 */

import type { Tag } from "./dataItem";
import { HttpError, pathId, percentDecode } from "./requestInput";

export type HyperbeamRoute =
  | { kind: "address" }
  | { kind: "spawn" }
  | { kind: "message"; process: string }
  | { kind: "result"; process: string; slot: number }
  | { kind: "compute"; process: string; slot: number }
  | { kind: "schedule" }
  | { kind: "currentSlot"; process: string }
  | { kind: "dryRun"; process: string; tags: Tag[] };

/** How each route is named in errors. */
export const HYPERBEAM_ROUTES = {
  address: "GET /~meta@1.0/info/address",
  spawn: "POST /push",
  message: "POST /<process id>~process@1.0/push",
  result: "POST /<process id>~process@1.0/compute/results=<slot>",
  compute: "POST /<process id>~process@1.0/compute=<slot>",
  schedule: "GET /~scheduler@1.0/schedule?target=<process id>&accept=application/aos-2",
  currentSlot: "POST /<process id>/slot/current",
  dryRun: "POST /<process id>~process@1.0/as=execution/compute&<Name>=<value>&…",
} as const;

// The process's segment: an ID, optionally addressed to its device (`~process@1.0`).
const PROCESS = "([^/~]+)";
const DEVICE = "~process@1\\.0";
const shapes = {
  address: /^\/~meta@1\.0\/info\/address\/?$/,
  spawn: /^\/push\/?$/,
  message: new RegExp(`^/${PROCESS}${DEVICE}/push/?$`),
  result: new RegExp(`^/${PROCESS}(?:${DEVICE})?/compute/results=([^/]*)/?$`),
  compute: new RegExp(`^/${PROCESS}(?:${DEVICE})?/compute=([^/]*)/?$`),
  schedule: /^\/~scheduler@1\.0\/schedule\/?$/,
  currentSlot: new RegExp(`^/${PROCESS}(?:${DEVICE})?/slot/current/?$`),
  // Everything after `compute` is tags: a tag's value may hold a `/`, which aoconnect does not encode.
  dryRun: new RegExp(`^/${PROCESS}${DEVICE}/as=execution/compute(.*)$`),
};

/**
 * The HyperBEAM route of a request, or undefined when `rawPath` (the path as sent, still percent-encoded)
 * is none of them. A path of a HyperBEAM shape with a bad part (an ID, a slot, a tag) throws a 400 naming it.
 */
export function parseHyperbeamPath(method: string, rawPath: string): HyperbeamRoute | undefined {
  if (method === "GET") {
    if (shapes.address.test(rawPath)) return { kind: "address" };
    return shapes.schedule.test(rawPath) ? { kind: "schedule" } : undefined;
  }
  if (method !== "POST") return undefined;
  if (shapes.spawn.test(rawPath)) return { kind: "spawn" };
  let m = shapes.message.exec(rawPath);
  if (m) return { kind: "message", process: pathId(m[1]!, "process id", HYPERBEAM_ROUTES.message) };
  m = shapes.result.exec(rawPath);
  if (m) {
    const process = pathId(m[1]!, "process id", HYPERBEAM_ROUTES.result);
    return {
      kind: "result",
      process,
      slot: slotOf(percentDecode(m[2]!, "the slot", HYPERBEAM_ROUTES.result), HYPERBEAM_ROUTES.result),
    };
  }
  m = shapes.compute.exec(rawPath);
  if (m) {
    const process = pathId(m[1]!, "process id", HYPERBEAM_ROUTES.compute);
    return {
      kind: "compute",
      process,
      slot: slotOf(percentDecode(m[2]!, "the slot", HYPERBEAM_ROUTES.compute), HYPERBEAM_ROUTES.compute),
    };
  }
  m = shapes.currentSlot.exec(rawPath);
  if (m) return { kind: "currentSlot", process: pathId(m[1]!, "process id", HYPERBEAM_ROUTES.currentSlot) };
  m = shapes.dryRun.exec(rawPath);
  if (m) {
    const process = pathId(m[1]!, "process id", HYPERBEAM_ROUTES.dryRun);
    return { kind: "dryRun", process, tags: pathTags(m[2]!) };
  }
  return undefined;
}

function slotOf(text: string, route: string): number {
  const slot = /^\d{1,15}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(slot)) {
    throw new HttpError(
      400,
      `invalid slot ${JSON.stringify(text)} in ${route}: use the slot number that POST /<process id>~process@1.0/push answered`,
    );
  }
  return slot;
}

/**
 * A dry-run's tags, `&<Name>=<value>` each, as aoconnect folds them into the path (so a name appears once;
 * a value holding `&` or `=` cannot be told apart, as on a HyperBEAM node). Names and values are
 * percent-decoded strictly: aoconnect does not escape tag values, so a value holding a literal `%` must
 * be sent as `%25` (a HyperBEAM node refuses a bad escape too).
 */
export function pathTags(rest: string): Tag[] {
  if (rest === "" || rest === "/") return [];
  const route = HYPERBEAM_ROUTES.dryRun;
  if (!rest.startsWith("&")) {
    throw new HttpError(
      400,
      `unexpected ${JSON.stringify(rest.slice(0, 100))} after "compute" in ${route}: tags follow as &<Name>=<value>`,
    );
  }
  const tags: Tag[] = [];
  for (const part of rest.slice(1).split("&")) {
    const eq = part.indexOf("=");
    if (eq <= 0) {
      const problem = part === "" ? "an empty tag (&&)" : eq === 0 ? "a tag with no name" : "a tag with no =";
      throw new HttpError(
        400,
        `${problem} ${JSON.stringify(part.slice(0, 100))} in the path of ${route}: write each tag as &<Name>=<value>`,
      );
    }
    const name = percentDecode(part.slice(0, eq), "a tag's name", route);
    if (tags.some((t) => t.name === name))
      throw new HttpError(400, `tag ${name} is given twice in the path of ${route}: give it once`);
    tags.push({ name, value: percentDecode(part.slice(eq + 1), `tag ${name}'s value`, route) });
  }
  return tags;
}

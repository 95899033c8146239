/**
 * A client that follows the registry's client contract (ao-process/README.md, "Client contract"), as the
 * CLI should: reads are dry-runs that claim no owner (anyone may read); a reply tagged `Moved-To` sends it
 * to the successor, which becomes its registry once it answers; a process being filled (E_SEALED) sends it
 * to the process named by `Read-From`, or, when it came there by `Moved-To`, back to the reply of the
 * process it came from: that one is whole and current, since no write is taken anywhere during a move.
 */
import { type Actor, Registry, type Reply } from "./registry";

/** A read's reply, and the process that gave it. */
export type Answer = Reply & { process: string };

/** How many `Moved-To` a read follows: a move is one step; more is a loop. */
const MAX_HOPS = 4;

export class ContractClient {
  /** `current`: the registry process the client reads first (its configuration, then the last that answered). */
  constructor(
    private readonly as: Actor,
    public current: string,
  ) {}

  private ask(pid: string, action: string, data: unknown): Promise<Reply> {
    return new Registry(pid).read(this.as, action, data, [], { owner: "" });
  }

  async read(action: string, data: unknown = {}): Promise<Answer> {
    let at = this.current;
    let reply = await this.ask(at, action, data);
    let cameFrom: Answer | undefined;
    for (let hop = 0; hop < MAX_HOPS; hop++) {
      if (reply.code === "E_SEALED") {
        if (cameFrom) return cameFrom;
        const from = reply.tags["Read-From"];
        if (!from) return { ...reply, process: at };
        return { ...(await this.ask(from, action, data)), process: from };
      }
      const next = reply.tags["Moved-To"];
      if (!next) {
        this.current = at;
        return { ...reply, process: at };
      }
      cameFrom = { ...reply, process: at };
      at = next;
      reply = await this.ask(at, action, data);
    }
    throw new Error(`Moved-To led through more than ${MAX_HOPS} processes from ${this.current}`);
  }
}

import type { Jwk } from "../providers/wallet";
import { type Item, RejectedItemError, signItem, type Tag, tagValue, verifyItem } from "./dataItem";
import type { AosModule } from "./modules";
import type { CrankOrigin, Scheduled, Scheduler } from "./scheduler";
import type { AosOutMessage, AosResult } from "./vm";

export interface MessengerOptions {
  scheduler: Scheduler;
  modules: AosModule[];
  wallet: Jwk;
  log: (line: string) => void;
}

/**
 * The messenger unit: accepts signed data items from clients (never re-signing them: the signer stays the
 * message's Owner), hands them to the scheduler, and cranks what processes emit — their outbox messages
 * and spawns, signed by the network's own wallet with `From-Process` naming the sender.
 */
export class Messenger {
  private cranking = new Map<string, Promise<void>>();

  constructor(private readonly o: MessengerOptions) {}

  /** `POST /`: a raw data item. Answers the status and JSON body to send. */
  async post(raw: Buffer): Promise<{ status: number; body: Record<string, unknown> }> {
    const item = await verifyItem(raw);
    const s = await this.accept(item);
    return { status: 200, body: { id: item.id, message: "Processing DataItem", timestamp: s.timestamp } };
  }

  /**
   * Schedules a verified item, for both front doors: `Type=Process` spawns (nonce 0 of its own schedule),
   * `Type=Message` goes to its target's schedule. The same signed item sent again (a client retrying
   * after a lost reply) is found where it was scheduled, never scheduled twice.
   */
  async accept(item: Item): Promise<Scheduled> {
    const existing = this.o.scheduler.find(item.id);
    if (existing) return existing;
    const type = tagValue(item.tags, "Type");
    if (type === "Process") {
      this.checkSpawn(item);
      return this.o.scheduler.spawn(item);
    }
    if (type === "Message") {
      if (!item.target) {
        throw new RejectedItemError("message has no target: set the data item's target to the process ID");
      }
      if (!this.o.scheduler.processes.has(item.target)) {
        throw new RejectedItemError(
          `unknown process ${item.target}: no process with that ID was spawned on this network`,
          404,
        );
      }
      return this.o.scheduler.schedule(item.target, item);
    }
    throw new RejectedItemError(
      `missing or unsupported Type tag ${JSON.stringify(type ?? null)}: use Type=Process to spawn or Type=Message to send`,
    );
  }

  /** Delivers what a process emitted; idempotent, so it can run again after a restart. */
  crank(s: Scheduled, result: AosResult): Promise<void> {
    const outbox = [
      ...(result.Messages ?? []).map((m, index) => ({
        m,
        origin: { process: s.process, nonce: s.nonce, kind: "message", index } as CrankOrigin,
      })),
      ...(result.Spawns ?? []).map((m, index) => ({
        m,
        origin: { process: s.process, nonce: s.nonce, kind: "spawn", index } as CrankOrigin,
      })),
    ].filter(({ origin }) => !this.o.scheduler.hasCranked(origin));
    if (outbox.length === 0) return this.cranking.get(s.process) ?? Promise.resolve();
    // One chain per sending process keeps its outbox in order.
    const prev = this.cranking.get(s.process) ?? Promise.resolve();
    const next = prev.then(async () => {
      for (const { m, origin } of outbox) {
        try {
          await this.deliver(s, m, origin);
        } catch (err) {
          this.o.log(
            `crank ${origin.process}#${origin.nonce} ${origin.kind} ${origin.index}: ${(err as Error).message}`,
          );
        }
      }
    });
    this.cranking.set(s.process, next);
    return next;
  }

  /** Waits for every crank under way. */
  async idle(): Promise<void> {
    await Promise.all([...this.cranking.values()]);
  }

  private async deliver(s: Scheduled, m: AosOutMessage, origin: CrankOrigin): Promise<void> {
    if (this.o.scheduler.hasCranked(origin)) return;
    const sender = this.o.scheduler.processes.get(s.process)!;
    const drop = new Set(["Data-Protocol", "Type", "From-Process", "From-Module"]);
    const tags: Tag[] = [
      ...(m.Tags ?? []).filter((t) => !drop.has(t.name)),
      { name: "Data-Protocol", value: "ao" },
      { name: "Type", value: origin.kind === "spawn" ? "Process" : "Message" },
      { name: "From-Process", value: s.process },
      { name: "From-Module", value: tagValue(sender.item.tags, "Module") ?? "" },
      { name: "Pushed-For", value: tagValue(s.item.tags, "Pushed-For") ?? s.item.id },
    ];
    if (origin.kind === "spawn") {
      if (!tagValue(tags, "Scheduler")) tags.push({ name: "Scheduler", value: this.o.scheduler.address });
      if (!tagValue(tags, "Variant")) tags.push({ name: "Variant", value: "ao.TN.1" });
      const { item } = await signItem(this.o.wallet, { data: m.Data ?? "", tags, anchor: m.Anchor });
      this.checkSpawn(item);
      await this.o.scheduler.spawn(item, origin);
      return;
    }
    const target = m.Target;
    if (!target || !this.o.scheduler.processes.has(target)) {
      // A reply to a wallet, or to a process elsewhere: nothing on this network receives it.
      return;
    }
    const { item } = await signItem(this.o.wallet, { data: m.Data ?? "", tags, target, anchor: m.Anchor });
    await this.o.scheduler.schedule(target, item, origin);
  }

  private checkSpawn(item: Item): void {
    const moduleId = tagValue(item.tags, "Module");
    if (!moduleId || !this.o.modules.some((m) => m.id === moduleId)) {
      throw new RejectedItemError(
        `unknown module ${JSON.stringify(moduleId ?? null)}: this network runs ${this.o.modules.map((m) => m.id).join(", ")}; set the Module tag to one of them`,
      );
    }
    const scheduler = tagValue(item.tags, "Scheduler");
    if (scheduler !== this.o.scheduler.address) {
      throw new RejectedItemError(
        `unknown scheduler ${JSON.stringify(scheduler ?? null)}: this network's scheduler is ${this.o.scheduler.address}; set the Scheduler tag to it`,
      );
    }
  }
}

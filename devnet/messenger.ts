import type { Jwk } from "../providers/wallet";
import { type Item, RejectedItemError, signItem, type Tag, tagValue, verifyItem } from "./dataItem";
import type { AosModule } from "./modules";
import type { CrankOrigin, Scheduled, Scheduler } from "./scheduler";
import type { AosOutMessage, AosResult } from "./vm";

export interface MessengerOptions {
  scheduler: Scheduler;
  modules: AosModule[];
  /** The legacy messenger's key: signs what it cranks (the outbox of what came through it). */
  wallet: Jwk;
  /**
   * The mainnet node's key and address: signs what it pushes (the outbox of what came through its door,
   * as HyperBEAM's push device pushes the outbox of what it computed: dev_push.erl do_push); a spawn
   * naming the node's own address as its scheduler is scheduled here.
   */
  node: { jwk: Jwk; address: string };
  /**
   * Schedulers a mainnet spawn may name besides this network's own: the real node forwards such a spawn
   * to that scheduler; this network schedules it itself (devnet/hyperbeam.ts).
   */
  foreignSchedulers: readonly string[];
  log: (line: string) => void;
}

/** Which front door an item came through: legacy's `POST /`, or mainnet's HyperBEAM routes. */
export type Door = "legacy" | "mainnet";

/** The variant a mainnet client (aoconnect in MODE mainnet) gives its spawns and messages. */
export const MAINNET_VARIANT = "ao.N.1";

/**
 * The messenger unit: accepts signed data items from clients (never re-signing them: the signer stays the
 * message's Owner), hands them to the scheduler, and cranks what processes emit — their outbox messages
 * and spawns, signed by the network's own wallet with `From-Process` naming the sender.
 */
export class Messenger {
  private cranking = new Map<string, Promise<void>>();
  /** Foreign schedulers this network has stood in for since it started: each is logged once. */
  private readonly stoodInFor = new Set<string>();

  constructor(private readonly o: MessengerOptions) {}

  /** `POST /`: a raw data item. Answers the status and JSON body to send. */
  async post(raw: Buffer): Promise<{ status: number; body: Record<string, unknown> }> {
    const item = await verifyItem(raw);
    const s = await this.accept(item);
    return { status: 200, body: { id: item.id, message: "Processing DataItem", timestamp: s.timestamp } };
  }

  /**
   * Schedules a verified item, for both front doors: `Type=Process` spawns (nonce 0 of its own schedule),
   * `Type=Message` goes to its target's schedule. The same signed spawn sent again is found where it was
   * scheduled; so is a re-sent message on the legacy door (AO's scheduler refuses an item ID it holds:
   * permaweb/ao servers/su/src/domain/core/flows.rs, write_item -> check_existing_message). On the
   * mainnet door a re-sent message is scheduled again, at a new slot, as HyperBEAM's scheduler does
   * (permaweb/HyperBEAM src/dev_scheduler_server.erl do_assign assigns the next slot to whatever it is
   * given; its test http_get_json_schedule_test_ in dev_scheduler.erl posts one signed message ten times
   * and reads slot 10).
   */
  async accept(item: Item, door: Door = "legacy"): Promise<Scheduled> {
    const type = tagValue(item.tags, "Type");
    const existing = this.o.scheduler.find(item.id);
    if (existing && (door === "legacy" || type === "Process")) return existing;
    const viaNode = door === "mainnet";
    if (type === "Process") {
      const standsInFor = this.checkSpawn(item, door);
      return this.o.scheduler.spawn(item, { ...(standsInFor ? { standsInFor } : {}), viaNode });
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
      return this.o.scheduler.schedule(item.target, item, { viaNode });
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
    // The outbox of what came through the node is pushed by the node, signed by its key; the outbox of
    // what came through the messenger is cranked by the messenger. What is pushed keeps its way in.
    const door: Door = s.viaNode ? "mainnet" : "legacy";
    const signer = s.viaNode ? this.o.node.jwk : this.o.wallet;
    const viaNode = door === "mainnet";
    if (origin.kind === "spawn") {
      if (!tagValue(tags, "Scheduler")) tags.push({ name: "Scheduler", value: this.o.scheduler.address });
      const variant = viaNode ? MAINNET_VARIANT : "ao.TN.1";
      if (!tagValue(tags, "Variant")) tags.push({ name: "Variant", value: variant });
      const { item } = await signItem(signer, { data: m.Data ?? "", tags, anchor: m.Anchor });
      const standsInFor = this.checkSpawn(item, door);
      await this.o.scheduler.spawn(item, {
        crankedFrom: origin,
        ...(standsInFor ? { standsInFor } : {}),
        viaNode,
      });
      return;
    }
    const target = m.Target;
    if (!target || !this.o.scheduler.processes.has(target)) {
      // A reply to a wallet, or to a process elsewhere: nothing on this network receives it.
      return;
    }
    const { item } = await signItem(signer, { data: m.Data ?? "", tags, target, anchor: m.Anchor });
    await this.o.scheduler.schedule(target, item, { crankedFrom: origin, viaNode });
  }

  /**
   * Refuses a spawn this network cannot run. Its Scheduler tag must be this network's scheduler; on the
   * mainnet door it may also be the node's own address (a HyperBEAM node schedules a process that names
   * it: dev_scheduler.erl find_server -> is_local_scheduler) or a listed foreign scheduler (the real node
   * forwards the spawn there: find_remote_scheduler, post_remote_schedule); this network then schedules
   * it itself and answers which address it stood in for.
   */
  private checkSpawn(item: Item, door: Door): string | undefined {
    const moduleId = tagValue(item.tags, "Module");
    if (!moduleId || !this.o.modules.some((m) => m.id === moduleId)) {
      throw new RejectedItemError(
        `unknown module ${JSON.stringify(moduleId ?? null)}: this network runs ${this.o.modules.map((m) => m.id).join(", ")}; set the Module tag to one of them`,
      );
    }
    const scheduler = tagValue(item.tags, "Scheduler");
    if (scheduler === this.o.scheduler.address) return undefined;
    const standIn =
      door === "mainnet" &&
      scheduler !== undefined &&
      (scheduler === this.o.node.address || this.o.foreignSchedulers.includes(scheduler));
    if (!standIn) {
      const also =
        door === "mainnet"
          ? ` (the node's own address ${this.o.node.address}${this.o.foreignSchedulers.length ? `, or a listed scheduler: ${this.o.foreignSchedulers.join(", ")}` : ""}, is taken too)`
          : "";
      throw new RejectedItemError(
        `unknown scheduler ${JSON.stringify(scheduler ?? null)}: this network's scheduler is ${this.o.scheduler.address}${also}; set the Scheduler tag to it`,
      );
    }
    if (!this.stoodInFor.has(scheduler)) {
      this.stoodInFor.add(scheduler);
      this.o.log(
        scheduler === this.o.node.address
          ? `a spawn names the node's own address ${scheduler} as its scheduler: this network's scheduler ${this.o.scheduler.address} schedules it (said once)`
          : `a spawn names scheduler ${scheduler}, which is listed: the real node would forward it there; this network's scheduler ${this.o.scheduler.address} schedules it itself (said once)`,
      );
    }
    return scheduler;
  }
}

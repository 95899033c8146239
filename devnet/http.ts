import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { wallClock } from "./clock";
import { type ComputeUnit, NotFoundError } from "./computeUnit";
import { RejectedItemError } from "./dataItem";
import type { Gateway } from "./gateway";
import type { Messenger } from "./messenger";
import type { Scheduled, Scheduler } from "./scheduler";

const MAX_BODY = 16 * 1024 * 1024;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface Units {
  messenger: Messenger;
  scheduler: Scheduler;
  cu: ComputeUnit;
  gateway: Gateway;
  info: () => Record<string, unknown>;
  log: (line: string) => void;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new HttpError(413, `request body over ${MAX_BODY} bytes`));
        req.destroy();
      } else chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const raw = await readBody(req);
  try {
    const v = JSON.parse(raw.toString("utf8")) as unknown;
    if (v && typeof v === "object" && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new HttpError(400, "the request body must be a JSON object");
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}

/** The message and its assignment, in the shape AO's scheduler serves them. */
function suMessage(s: Scheduled, suAddress: string) {
  return {
    message: {
      id: s.item.id,
      owner: { address: s.item.owner, key: s.item.ownerKey },
      data: s.item.data,
      tags: s.item.tags,
      signature: s.item.signature,
      target: s.item.target,
      anchor: s.item.anchor,
    },
    assignment: {
      id: s.assignmentId,
      owner: { address: suAddress, key: "" },
      tags: [
        { name: "Process", value: s.process },
        { name: "Epoch", value: String(s.epoch) },
        { name: "Nonce", value: String(s.nonce) },
        { name: "Hash-Chain", value: s.hashChain },
        { name: "Block-Height", value: String(s.blockHeight).padStart(12, "0") },
        { name: "Timestamp", value: String(s.timestamp) },
        { name: "Message", value: s.item.id },
      ],
    },
  };
}

function cursorOf(nonce: number, timestamp: number): string {
  return Buffer.from(JSON.stringify({ timestamp, ordinate: nonce })).toString("base64url");
}

/** A cursor from `/results`, or a plain timestamp as aoconnect users sometimes pass. */
function parseBound(value: string | null): { timestamp: number; ordinate: number } | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return { timestamp: Number(value), ordinate: Number.POSITIVE_INFINITY };
  try {
    const c = JSON.parse(Buffer.from(value, "base64url").toString("utf8")) as {
      timestamp: number;
      ordinate: number;
    };
    if (typeof c.timestamp === "number" && typeof c.ordinate === "number") return c;
  } catch {
    // fall through
  }
  throw new HttpError(
    400,
    `invalid cursor ${JSON.stringify(value)}: pass a cursor from a previous /results page`,
  );
}

const before = (a: { timestamp: number; ordinate: number }, b: { timestamp: number; ordinate: number }) =>
  a.timestamp < b.timestamp || (a.timestamp === b.timestamp && a.ordinate < b.ordinate);

export function createHttpServer(u: Units): { server: Server; close: () => Promise<void> } {
  const sockets = new Set<Socket>();

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://localhost");
    const path = url.pathname.replace(/\/+$/, "") || "/";
    const method = req.method ?? "GET";
    const processId = url.searchParams.get("process-id");

    // Messenger
    if (method === "POST" && (path === "/" || path === "/mu")) {
      const r = await u.messenger.post(await readBody(req));
      return send(res, r.status, r.body);
    }
    // Gateway
    if (method === "POST" && path === "/graphql") {
      const r = await u.gateway.query(await readJson(req));
      return send(res, r.status, r.body);
    }
    // Compute unit
    let m = /^\/result\/([^/]+)$/.exec(path);
    if (method === "GET" && m) {
      if (!processId)
        throw new HttpError(
          400,
          "missing process-id query parameter: /result/<message id>?process-id=<process id>",
        );
      return send(res, 200, await u.cu.result(processId, m[1]!));
    }
    m = /^\/results\/([^/]+)$/.exec(path);
    if (method === "GET" && m) return send(res, 200, results(m[1]!, url.searchParams));
    if (method === "POST" && path === "/dry-run") {
      if (!processId)
        throw new HttpError(400, "missing process-id query parameter: /dry-run?process-id=<process id>");
      return send(res, 200, await u.cu.dryRun(processId, await readJson(req)));
    }
    // Scheduler
    if (method === "GET" && path === "/su") {
      return send(res, 200, {
        Unit: "Scheduler",
        Address: u.scheduler.address,
        Timestamp: wallClock(),
        Processes: [...u.scheduler.processes.keys()],
      });
    }
    if (method === "GET" && path === "/su/timestamp") {
      return send(res, 200, { timestamp: wallClock() });
    }
    m = /^\/su\/([^/]+)$/.exec(path);
    if (method === "GET" && m) return send(res, 200, suRead(m[1]!, processId, url.searchParams));
    if (method === "GET" && (path === "/" || path === "/info")) return send(res, 200, u.info());
    throw new HttpError(404, `no route ${method} ${path}`);
  }

  function results(pid: string, q: URLSearchParams) {
    const sort = (q.get("sort") ?? "ASC").toUpperCase();
    if (sort !== "ASC" && sort !== "DESC")
      throw new HttpError(400, `invalid sort ${JSON.stringify(sort)}: use ASC or DESC`);
    const limit = q.has("limit") ? Number(q.get("limit")) : 25;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      throw new HttpError(
        400,
        `invalid limit ${JSON.stringify(q.get("limit"))}: use an integer from 1 to 1000`,
      );
    }
    const from = parseBound(q.get("from"));
    const to = parseBound(q.get("to"));
    const schedule = u.scheduler.processes.get(pid);
    if (!schedule) throw new NotFoundError(`process ${pid} is not known to this network`);
    // `from` is exclusive and `to` inclusive, in the direction of the sort.
    let rows = u.cu.storedResults(pid).map(({ nonce, result }) => {
      const s = schedule.messages[nonce]!;
      return { at: { timestamp: s.timestamp, ordinate: nonce }, result };
    });
    if (sort === "ASC") {
      rows = rows.filter((r) => (!from || before(from, r.at)) && (!to || !before(to, r.at)));
    } else {
      rows = rows.reverse().filter((r) => (!from || before(r.at, from)) && (!to || !before(r.at, to)));
    }
    const page = rows.slice(0, limit);
    return {
      pageInfo: { hasNextPage: rows.length > page.length },
      edges: page.map((r) => ({ cursor: cursorOf(r.at.ordinate, r.at.timestamp), node: r.result })),
    };
  }

  function suRead(id: string, processId: string | null, q: URLSearchParams) {
    const schedule = u.scheduler.processes.get(id);
    if (schedule && (!processId || processId === id)) {
      const from = q.has("from") && q.get("from") !== "" ? Number(q.get("from")) : Number.NEGATIVE_INFINITY;
      const to = q.has("to") && q.get("to") !== "" ? Number(q.get("to")) : Number.POSITIVE_INFINITY;
      const limit = Math.min(Number(q.get("limit") ?? 100) || 100, 1000);
      const rows = schedule.messages.filter(
        (s) => s.nonce <= schedule.durable && s.timestamp >= from && s.timestamp <= to,
      );
      const page = rows.slice(0, limit);
      return {
        page_info: { has_next_page: rows.length > page.length },
        edges: page.map((s) => ({ cursor: String(s.timestamp), node: suMessage(s, u.scheduler.address) })),
      };
    }
    const s = u.scheduler.find(id);
    if (!s || (processId && s.process !== processId)) throw new NotFoundError(`message ${id} not found`);
    return suMessage(s, u.scheduler.address);
  }

  const server = createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      const status =
        err instanceof HttpError || err instanceof RejectedItemError || err instanceof NotFoundError
          ? (err as { status: number }).status
          : 500;
      const message = err instanceof Error ? err.message : String(err);
      if (status >= 500) u.log(`${req.method} ${req.url}: ${message}`);
      if (!res.headersSent) send(res, status, { error: message });
      else res.destroy();
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  return {
    server,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}

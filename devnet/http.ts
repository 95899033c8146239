import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { wallClock } from "./clock";
import type { ComputeUnit } from "./computeUnit";
import { RejectedItemError } from "./dataItem";
import { DryRunRefused } from "./dryRuns";
import type { Gateway } from "./gateway";
import { serveHyperbeam } from "./hyperbeam";
import { parseHyperbeamPath } from "./hyperbeamPaths";
import type { Messenger } from "./messenger";
import { NotFoundError } from "./notFound";
import { HttpError, pathId, peerOf, readBody, readJson, readQuery, requestTarget } from "./requestInput";
import { dryRunBody, GRAPHQL_BODY_LIMIT, graphqlBody, MESSAGE_BODY_LIMIT, queries } from "./requestSchemas";
import type { Scheduler } from "./scheduler";

export interface Units {
  messenger: Messenger;
  scheduler: Scheduler;
  cu: ComputeUnit;
  gateway: Gateway;
  /** The mainnet node's own address (`GET /~meta@1.0/info/address`). */
  nodeAddress: string;
  info: () => Record<string, unknown>;
  log: (line: string) => void;
}

/**
 * What a listener serves: every unit and both front doors, or a second mainnet door alone that
 * schedules but computes nothing (its compute routes are 404).
 */
export type Doors = "all" | "schedule-only node";

/** JSON for anything but a string, which is sent as text (HyperBEAM answers some reads as text). */
function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const [type, text] =
    typeof body === "string"
      ? ["text/plain; charset=utf-8", body]
      : ["application/json", JSON.stringify(body)];
  res.writeHead(status, { ...headers, "Content-Type": type, "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}

/** How long an idle keep-alive connection stays open; clients close theirs a little before (Keep-Alive header). */
const KEEP_ALIVE_MS = 30_000;

export function createHttpServer(
  u: Units,
  doors: Doors = "all",
): { server: Server; close: () => Promise<void> } {
  const sockets = new Set<Socket>();

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // The path as sent, never normalised by a URL parser (requestTarget): one trailing slash is dropped.
    const target = requestTarget(req.url);
    const path = target.path.length > 1 ? target.path.replace(/\/$/, "") : target.path;
    const method = req.method ?? "GET";
    const q = target.query;
    const at = `${method} ${path}`;
    const node = { ...u, computes: doors === "all" };
    if (doors !== "all") {
      const hb = parseHyperbeamPath(method, target.path);
      if (!hb)
        throw new HttpError(
          404,
          `no route ${method} ${path} (this door serves AO mainnet's node routes only)`,
        );
      const r = await serveHyperbeam(hb, req, node, q);
      return send(res, r.status, r.body, r.headers);
    }

    // Messenger
    if (method === "POST" && (path === "/" || path === "/mu")) {
      readQuery(q, at, queries.none);
      const r = await u.messenger.post(await readBody(req, MESSAGE_BODY_LIMIT, at));
      return send(res, r.status, r.body);
    }
    // Gateway
    if (method === "POST" && path === "/graphql") {
      readQuery(q, at, queries.none);
      const r = await u.gateway.query(await readJson(req, GRAPHQL_BODY_LIMIT, at, graphqlBody));
      return send(res, r.status, r.body);
    }
    // Compute unit
    let m = /^\/result\/([^/]+)$/.exec(path);
    if (method === "GET" && m) {
      const route = "GET /result/<message id>?process-id=<process id>";
      const { "process-id": processId } = readQuery(q, route, queries.result);
      return send(res, 200, await u.cu.result(processId, pathId(m[1]!, "message id", route)));
    }
    m = /^\/results\/([^/]+)$/.exec(path);
    if (method === "GET" && m) {
      const route = "GET /results/<process id>";
      return send(
        res,
        200,
        u.cu.resultsPage(pathId(m[1]!, "process id", route), readQuery(q, route, queries.results)),
      );
    }
    if (method === "POST" && path === "/dry-run") {
      const route = "POST /dry-run?process-id=<process id>";
      const { "process-id": processId } = readQuery(q, route, queries.dryRun);
      // Admitted (or refused) before the body is read: a refusal costs the network nothing more.
      const result = await u.cu.dryRun(processId, peerOf(req), () =>
        readJson(req, MESSAGE_BODY_LIMIT, route, dryRunBody),
      );
      return send(res, 200, result);
    }
    // Scheduler
    if (method === "GET" && path === "/su") {
      readQuery(q, at, queries.none);
      return send(res, 200, {
        Unit: "Scheduler",
        Address: u.scheduler.address,
        Timestamp: wallClock(),
        Processes: [...u.scheduler.processes.keys()],
      });
    }
    if (method === "GET" && path === "/su/timestamp") {
      readQuery(q, at, queries.none);
      return send(res, 200, { timestamp: wallClock() });
    }
    m = /^\/su\/([^/]+)$/.exec(path);
    if (method === "GET" && m) {
      const route = "GET /su/<process or message id>";
      const { "process-id": processId, ...page } = readQuery(q, route, queries.su);
      return send(res, 200, u.scheduler.read(pathId(m[1]!, "ID", route), { processId, ...page }));
    }
    if (method === "GET" && (path === "/" || path === "/info")) {
      readQuery(q, at, queries.none);
      return send(res, 200, u.info());
    }
    // HyperBEAM (mainnet): the same units behind AO mainnet's paths (devnet/hyperbeam.ts).
    const hb = parseHyperbeamPath(method, target.path);
    if (hb) {
      // Its query is checked by the route (only GET /~scheduler@1.0/schedule takes one).
      const r = await serveHyperbeam(hb, req, node, q);
      return send(res, r.status, r.body, r.headers);
    }
    throw new HttpError(404, `no route ${method} ${path}`);
  }

  const server = createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      const status =
        err instanceof HttpError ||
        err instanceof RejectedItemError ||
        err instanceof NotFoundError ||
        err instanceof DryRunRefused
          ? (err as { status: number }).status
          : 500;
      const message = err instanceof Error ? err.message : String(err);
      if (status >= 500 && !(err instanceof DryRunRefused)) u.log(`${req.method} ${req.url}: ${message}`);
      const headers: Record<string, string> =
        err instanceof DryRunRefused ? { "Retry-After": String(err.retryAfterSeconds) } : {};
      if (!res.headersSent) send(res, status, { error: message }, headers);
      else res.destroy();
    });
  });
  // A keep-alive timer that expires while the event loop is busy (booting a process takes seconds) closes its
  // socket before the request a client sent on it meanwhile is read: the client gets a reset. A long timeout
  // makes that take a long block (reproduced with a 7 s block and Node's default of 5 s).
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  // A request Node's parser refuses (a bad request line, header or length) gets JSON too, then the socket closes.
  server.on("clientError", (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (!socket.writable || err.code === "ECONNRESET") return void socket.destroy();
    const [status, reason] =
      err.code === "HPE_HEADER_OVERFLOW" ? [431, "Request Header Fields Too Large"] : [400, "Bad Request"];
    const text = JSON.stringify({
      error: `malformed HTTP request (${err.code ?? err.message}): send a valid HTTP/1.1 request`,
    });
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
    );
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

/**
 * A fault-injecting HTTP proxy in front of one AO unit: each request is passed, answered with an HTTP
 * error without forwarding, forwarded and then its reply dropped (the socket is destroyed after the
 * upstream accepted it: the client never learns the outcome), or forwarded and its reply held back (a
 * stalled node). Each request seen is recorded with the SHA-256 of its body (a re-sent signed item has
 * the same).
 */
import { createHash } from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";

export type Fault = "pass" | "drop-reply" | { status: number; body?: string } | { delayMs: number };
export interface SeenRequest {
  method: string;
  url: string;
  n: number;
  bodySha256: string;
}

export async function startFaultProxy(
  target: string,
  rule: (req: SeenRequest) => Fault,
): Promise<{ url: string; seen: SeenRequest[]; close(): Promise<void> }> {
  const seen: SeenRequest[] = [];
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const info = {
      method: req.method ?? "GET",
      url: req.url ?? "/",
      n: seen.length + 1,
      bodySha256: createHash("sha256").update(Buffer.concat(chunks)).digest("hex"),
    };
    seen.push(info);
    const fault = rule(info);
    if (typeof fault === "object" && "status" in fault) {
      res.writeHead(fault.status, { "content-type": "text/plain" });
      res.end(fault.body ?? `injected HTTP ${fault.status}`);
      return;
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (typeof v === "string" && !["host", "connection", "content-length"].includes(k)) headers[k] = v;
    }
    const upstream = await fetch(new URL(info.url, target), {
      method: info.method,
      headers,
      ...(chunks.length ? { body: Buffer.concat(chunks) } : {}),
    });
    const body = Buffer.from(await upstream.arrayBuffer());
    if (typeof fault === "object") await new Promise((r) => setTimeout(r, fault.delayMs));
    if (res.destroyed) return;
    if (fault === "drop-reply") {
      req.socket.destroy();
      return;
    }
    const out: Record<string, string> = {};
    upstream.headers.forEach((v, k) => {
      if (!["content-encoding", "content-length", "transfer-encoding", "connection"].includes(k)) out[k] = v;
    });
    res.writeHead(upstream.status, out);
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

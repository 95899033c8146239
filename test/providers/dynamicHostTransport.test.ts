/**
 * The harness's engine transport (test/support/dynamicHost.ts): Create and Update go over it because an
 * init error's details (the properties, with the ~80 KB serialized provider and the code) exceed the
 * 64 KiB that grpc-js, like every nghttp2-based client, accepts in one header; grpc-go, the engine,
 * accepts 16 MiB. Checked here against Node's own HTTP/2 server (nghttp2's HPACK encoder).
 */
import { randomBytes } from "node:crypto";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EngineTransport, HpackDecoder, huffmanDecode } from "../../scripts/lib/engineTransport";

const PRINTABLE = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i))
  .filter((c) => c !== "\\")
  .join("");
const big = randomBytes(300_000);
let server: http2.Http2Server;
let port: number;

beforeAll(async () => {
  // As grpc-js's server does: no limit on the header block it sends.
  server = http2.createServer({ maxSendHeaderBlockLength: Number.MAX_SAFE_INTEGER });
  server.on("stream", (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", () => {
      const body = Buffer.concat(chunks);
      stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
      stream.on("wantTrailers", () => {
        if (headers[":path"] === "/test/Fail") {
          stream.sendTrailers({
            "grpc-status": "5",
            "grpc-message": PRINTABLE,
            "grpc-status-details-bin": big.toString("base64"),
          });
        } else {
          stream.sendTrailers({ "grpc-status": "0" });
        }
      });
      // Echo: the request's gRPC frame back as the response.
      stream.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const method = (path: string) => ({
  path,
  requestSerialize: (b: Buffer) => b,
  responseDeserialize: (b: Buffer) => Buffer.from(b),
});

describe("the harness's engine transport", () => {
  it("receives a status-details trailer far over 64 KiB whole, with every printable character", async () => {
    const t = new EngineTransport(port);
    try {
      const err = (await t.unary(method("/test/Fail"), Buffer.from("x"), 10_000).catch((e) => e)) as {
        code: number;
        details: string;
        statusDetails: Uint8Array;
      };
      expect(err.code).toBe(5);
      expect(err.details).toBe(PRINTABLE);
      expect(Buffer.from(err.statusDetails).equals(big)).toBe(true);
    } finally {
      t.close();
    }
  });

  it("sends and receives messages larger than the flow-control windows, several calls on one connection", async () => {
    const t = new EngineTransport(port);
    try {
      for (const size of [10, 200_000, 1_500_000]) {
        const payload = randomBytes(size);
        const echoed = (await t.unary(method("/test/Echo"), payload, 10_000)) as Buffer;
        expect(echoed.equals(payload)).toBe(true);
      }
    } finally {
      t.close();
    }
  });

  it("is needed: grpc-js resets the stream on the same trailer", async () => {
    const grpc = await import("@grpc/grpc-js");
    const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    try {
      const err = await new Promise<{ details: string }>((resolve) =>
        client.makeUnaryRequest(
          "/test/Fail",
          (b: Buffer) => b,
          (b: Buffer) => b,
          Buffer.from("x"),
          (e) => resolve(e as unknown as { details: string }),
        ),
      );
      expect(err.details).toMatch(/RST_STREAM|Protocol error/);
    } finally {
      client.close();
    }
  });

  it("decodes RFC 7541's Huffman-coded request examples (C.4), dynamic table included", () => {
    const d = new HpackDecoder();
    const hex = (s: string) => Buffer.from(s.replace(/\s/g, ""), "hex");
    expect(d.decode(hex("8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff"))).toEqual([
      [":method", "GET"],
      [":scheme", "http"],
      [":path", "/"],
      [":authority", "www.example.com"],
    ]);
    expect(d.decode(hex("8286 84be 5886 a8eb 1064 9cbf"))).toEqual([
      [":method", "GET"],
      [":scheme", "http"],
      [":path", "/"],
      [":authority", "www.example.com"],
      ["cache-control", "no-cache"],
    ]);
    expect(d.decode(hex("8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf"))).toEqual([
      [":method", "GET"],
      [":scheme", "https"],
      [":path", "/index.html"],
      [":authority", "www.example.com"],
      ["custom-key", "custom-value"],
    ]);
  });

  it("says it cannot decode a string that uses a code longer than its table (rather than guessing)", () => {
    // '\' is 19 bits (0x7fff0): 1111111 1111111 10000 then EOS padding.
    expect(huffmanDecode(Buffer.from([0xff, 0xfe, 0x1f]))).toBeUndefined();
    expect(huffmanDecode(Buffer.from([0x1f]))).toBe("a");
  });
});

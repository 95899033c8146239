/**
 * The engine's transport for Create and Update.
 *
 * A Create or Update that fails after the resource exists answers with ErrorResourceInitFailed in the
 * `grpc-status-details-bin` trailer: a base64 google.rpc.Status holding the resource's properties, here
 * with the serialized provider (~70 KB) and the code. The engine (grpc-go) accepts header lists up to
 * 16 MiB; every nghttp2-based client, grpc-js and Node's http2 included, refuses any single header field
 * over 64 KiB (NGHTTP2_HD_MAX_NV) and resets the stream ("Received RST_STREAM with code 2 ... Protocol
 * error"). So these two calls go over a minimal HTTP/2 client (prior-knowledge h2c, unary gRPC, HPACK
 * decoding) that accepts what the engine accepts. Requests use the SDK's generated service definition.
 */

const FRAME = {
  DATA: 0,
  HEADERS: 1,
  RST_STREAM: 3,
  SETTINGS: 4,
  PING: 6,
  GOAWAY: 7,
  WINDOW_UPDATE: 8,
  CONTINUATION: 9,
};
const FLAG = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4, PADDED: 0x8, PRIORITY: 0x20 };
/** grpc-go's default client limit on a header list. */
const MAX_HEADER_LIST = 16 << 20;
const MAX_WINDOW = 2 ** 31 - 1;

/** RFC 7541 Appendix A: the static table, one `name value` per line. */
const STATIC_TABLE: [string, string][] = `:authority
:method GET
:method POST
:path /
:path /index.html
:scheme http
:scheme https
:status 200
:status 204
:status 206
:status 304
:status 400
:status 404
:status 500
accept-charset
accept-encoding gzip, deflate
accept-language
accept-ranges
accept
access-control-allow-origin
age
allow
authorization
cache-control
content-disposition
content-encoding
content-language
content-length
content-location
content-range
content-type
cookie
date
etag
expect
expires
from
host
if-match
if-modified-since
if-none-match
if-range
if-unmodified-since
last-modified
link
location
max-forwards
proxy-authenticate
proxy-authorization
range
referer
refresh
retry-after
server
set-cookie
strict-transport-security
transfer-encoding
user-agent
vary
via
www-authenticate`
  .split("\n")
  .map((line) => {
    const space = line.indexOf(" ");
    return space < 0 ? [line, ""] : [line.slice(0, space), line.slice(space + 1)];
  });

/**
 * RFC 7541 Appendix B is a canonical Huffman code: codes are assigned in order of (length, symbol), so
 * the lengths define it. These are the symbols with codes of at most 15 bits: all printable ASCII but
 * `\`, and NUL. Everything gRPC puts in the headers read here (names, digits, base64) is among them;
 * a string using a longer code decodes to `undefined`.
 */
const HUFFMAN_BY_LENGTH: [number, string][] = [
  [5, "012aceiost"],
  [6, " %-./3456789=A_bdfghlmnpru"],
  [7, ":BCDEFGHIJKLMNOPQRSTUVWYjkqvwxyz"],
  [8, "&*,;XZ"],
  [10, '!"()?'],
  [11, "'+|"],
  [12, "#>"],
  [13, "\0$@[]~"],
  [14, "^}"],
  [15, "<`{"],
];
const HUFFMAN = (() => {
  const first: number[] = [];
  const symbols: string[] = [];
  let code = 0;
  let prev = 0;
  for (const [len, syms] of HUFFMAN_BY_LENGTH) {
    code <<= len - prev;
    first[len] = code;
    symbols[len] = syms;
    code += syms.length;
    prev = len;
  }
  return { first, symbols, maxLength: prev };
})();

/** Decodes a Huffman-coded string; undefined when it uses a code this table leaves out. */
export function huffmanDecode(bytes: Uint8Array): string | undefined {
  let out = "";
  let code = 0;
  let len = 0;
  for (const byte of bytes) {
    for (let bit = 7; bit >= 0; bit--) {
      code = (code << 1) | ((byte >> bit) & 1);
      len++;
      const syms = HUFFMAN.symbols[len];
      if (syms !== undefined && code - HUFFMAN.first[len]! < syms.length && code >= HUFFMAN.first[len]!) {
        out += syms[code - HUFFMAN.first[len]!];
        code = 0;
        len = 0;
      } else if (len > HUFFMAN.maxLength) {
        return undefined;
      }
    }
  }
  // Padding: fewer than 8 bits, all ones (the start of EOS).
  if (len > 7 || code !== (1 << len) - 1) return undefined;
  return out;
}

/** An HPACK decoder (RFC 7541) with its dynamic table; a string it cannot decode is `undefined`. */
export class HpackDecoder {
  private table: { name?: string; value?: string; size: number }[] = [];
  private size = 0;
  private maxSize = 4096;

  decode(block: Uint8Array): [string, string | undefined][] {
    const headers: [string, string | undefined][] = [];
    let pos = 0;
    const int = (prefixBits: number): number => {
      const mask = (1 << prefixBits) - 1;
      let value = block[pos++]! & mask;
      if (value < mask) return value;
      let shift = 0;
      let b: number;
      do {
        b = block[pos++]!;
        value += (b & 0x7f) * 2 ** shift;
        shift += 7;
      } while (b & 0x80);
      return value;
    };
    const str = (): { text?: string; octets: number } => {
      const huffman = (block[pos]! & 0x80) !== 0;
      const length = int(7);
      const raw = block.subarray(pos, pos + length);
      pos += length;
      if (!huffman) return { text: Buffer.from(raw).toString("latin1"), octets: length };
      const text = huffmanDecode(raw);
      return { text, octets: text?.length ?? -1 };
    };
    const entry = (index: number) => {
      if (index >= 1 && index <= STATIC_TABLE.length) {
        const [name, value] = STATIC_TABLE[index - 1]!;
        return { name, value };
      }
      const e = this.table[index - STATIC_TABLE.length - 1];
      if (!e) throw new Error(`HPACK: no table entry ${index}`);
      return e;
    };
    while (pos < block.length) {
      const b = block[pos]!;
      if (b & 0x80) {
        const e = entry(int(7));
        headers.push([e.name ?? "", e.value]);
      } else if ((b & 0xe0) === 0x20) {
        this.maxSize = int(5);
        this.evict(0);
      } else {
        const indexing = (b & 0xc0) === 0x40;
        const index = int(indexing ? 6 : 4);
        const name = index ? { text: entry(index).name, octets: (entry(index).name ?? "").length } : str();
        const value = str();
        headers.push([name.text ?? "", value.text]);
        if (indexing) this.add(name, value);
      }
    }
    return headers;
  }

  private add(name: { text?: string; octets: number }, value: { text?: string; octets: number }) {
    if (name.octets < 0 || value.octets < 0) {
      if (this.maxSize === 0) return;
      throw new Error("HPACK: cannot index a string coded beyond this decoder's Huffman table");
    }
    const size = name.octets + value.octets + 32;
    this.evict(size);
    if (size <= this.maxSize) {
      this.table.unshift({ name: name.text, value: value.text, size });
      this.size += size;
    }
  }

  private evict(incoming: number) {
    while (this.table.length && this.size + incoming > this.maxSize) this.size -= this.table.pop()!.size;
  }
}

interface UnaryFailure {
  code: number;
  details: string;
  /** The decoded `grpc-status-details-bin` trailer (a google.rpc.Status), if any. */
  statusDetails?: Uint8Array;
}

interface PendingStream {
  headers: Map<string, string | undefined>;
  data: Buffer[];
  resolve(res: { data: Buffer; headers: Map<string, string | undefined> }): void;
  reject(err: Error): void;
  send?: { payload: Buffer; offset: number };
  window: number;
}

/** A unary gRPC client over one prior-knowledge HTTP/2 connection, with grpc-go's header limits. */
export class EngineTransport {
  private socket?: import("node:net").Socket;
  private connecting?: Promise<void>;
  private buffer = Buffer.alloc(0);
  private decoder = new HpackDecoder();
  private streams = new Map<number, PendingStream>();
  private nextStream = 1;
  private sendWindow = 65_535;
  private peerInitialWindow = 65_535;
  private peerMaxFrame = 16_384;
  private block?: { id: number; ended: boolean; parts: Buffer[] };
  private closedError?: Error;

  constructor(private readonly port: number) {}

  private connect(): Promise<void> {
    if (this.connecting !== undefined) return this.connecting;
    const net = require("node:net") as typeof import("node:net");
    this.connecting = new Promise<void>((resolve, reject) => {
      const socket = net.connect(this.port, "127.0.0.1", () => {
        // Frames go out as separate writes: without this, Nagle's algorithm holds a frame back until the
        // previous one is acknowledged (up to 40 ms with delayed ACKs), as grpc-go's net.Conn never does.
        socket.setNoDelay(true);
        const settings = Buffer.alloc(18);
        // HEADER_TABLE_SIZE 0: the host never indexes, so every string is read on its own.
        [
          [0x1, 0],
          [0x2, 0],
          [0x4, MAX_WINDOW],
        ].forEach(([id, v], i) => {
          settings.writeUInt16BE(id!, i * 6);
          settings.writeUInt32BE(v!, i * 6 + 2);
        });
        const list = Buffer.alloc(6);
        list.writeUInt16BE(0x6, 0);
        list.writeUInt32BE(MAX_HEADER_LIST, 2);
        const increment = Buffer.alloc(4);
        increment.writeUInt32BE(MAX_WINDOW - 65_535);
        socket.write(Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1"));
        this.frame(FRAME.SETTINGS, 0, 0, Buffer.concat([settings, list]), socket);
        this.frame(FRAME.WINDOW_UPDATE, 0, 0, increment, socket);
        resolve();
      });
      socket.on("data", (chunk) => this.onData(chunk));
      socket.on("error", (e) => {
        reject(e);
        this.fail(e);
      });
      socket.on("close", () => this.fail(new Error("the host closed the HTTP/2 connection")));
      this.socket = socket;
    });
    return this.connecting;
  }

  private frame(type: number, flags: number, stream: number, payload: Buffer, socket = this.socket!) {
    const head = Buffer.alloc(9);
    head.writeUIntBE(payload.length, 0, 3);
    head[3] = type;
    head[4] = flags;
    head.writeUInt32BE(stream, 5);
    socket.write(Buffer.concat([head, payload]));
  }

  private fail(err: Error) {
    this.closedError ??= err;
    for (const s of this.streams.values()) s.reject(err);
    this.streams.clear();
  }

  /** Sends the request body as far as the flow-control windows allow. */
  private pump() {
    for (const [id, s] of this.streams) {
      const send = s.send;
      while (send && send.offset < send.payload.length) {
        const n = Math.min(this.peerMaxFrame, this.sendWindow, s.window, send.payload.length - send.offset);
        if (n <= 0) break;
        const last = send.offset + n === send.payload.length;
        this.frame(
          FRAME.DATA,
          last ? FLAG.END_STREAM : 0,
          id,
          send.payload.subarray(send.offset, send.offset + n),
        );
        send.offset += n;
        this.sendWindow -= n;
        s.window -= n;
      }
    }
  }

  private onData(chunk: Buffer) {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    while (this.buffer.length >= 9) {
      const length = this.buffer.readUIntBE(0, 3);
      if (this.buffer.length < 9 + length) return;
      const type = this.buffer[3]!;
      const flags = this.buffer[4]!;
      const stream = this.buffer.readUInt32BE(5) & 0x7fffffff;
      const payload = this.buffer.subarray(9, 9 + length);
      this.buffer = this.buffer.subarray(9 + length);
      try {
        this.onFrame(type, flags, stream, payload);
      } catch (e) {
        this.fail(e as Error);
        this.socket?.destroy();
        return;
      }
    }
  }

  private onFrame(type: number, flags: number, id: number, payload: Buffer) {
    const s = this.streams.get(id);
    const unpad = (p: Buffer) => (flags & FLAG.PADDED ? p.subarray(1, p.length - p[0]!) : p);
    switch (type) {
      case FRAME.SETTINGS: {
        if (flags & FLAG.ACK) return;
        for (let i = 0; i + 6 <= payload.length; i += 6) {
          const key = payload.readUInt16BE(i);
          const value = payload.readUInt32BE(i + 2);
          if (key === 0x4) {
            for (const st of this.streams.values()) st.window += value - this.peerInitialWindow;
            this.peerInitialWindow = value;
          } else if (key === 0x5) this.peerMaxFrame = value;
        }
        this.frame(FRAME.SETTINGS, FLAG.ACK, 0, Buffer.alloc(0));
        this.pump();
        return;
      }
      case FRAME.PING:
        if (!(flags & FLAG.ACK)) this.frame(FRAME.PING, FLAG.ACK, 0, payload);
        return;
      case FRAME.WINDOW_UPDATE: {
        const inc = payload.readUInt32BE(0) & 0x7fffffff;
        if (id === 0) this.sendWindow += inc;
        else if (s) s.window += inc;
        this.pump();
        return;
      }
      case FRAME.GOAWAY:
        this.fail(new Error(`the host sent GOAWAY (error ${payload.readUInt32BE(4)})`));
        return;
      case FRAME.RST_STREAM:
        if (s) {
          this.streams.delete(id);
          s.reject(new Error(`the host reset the stream (error ${payload.readUInt32BE(0)})`));
        }
        return;
      case FRAME.DATA: {
        if (payload.length) {
          const inc = Buffer.alloc(4);
          inc.writeUInt32BE(payload.length);
          this.frame(FRAME.WINDOW_UPDATE, 0, 0, inc);
        }
        if (!s) return;
        s.data.push(unpad(payload));
        if (flags & FLAG.END_STREAM) this.finish(id, s);
        return;
      }
      case FRAME.HEADERS:
      case FRAME.CONTINUATION: {
        let block = type === FRAME.HEADERS ? unpad(payload) : payload;
        if (type === FRAME.HEADERS && flags & FLAG.PRIORITY) block = block.subarray(5);
        // A header block is HEADERS plus CONTINUATION frames, never interleaved with other frames.
        if (type === FRAME.HEADERS) this.block = { id, ended: (flags & FLAG.END_STREAM) !== 0, parts: [] };
        this.block!.parts.push(block);
        if (flags & FLAG.END_HEADERS) {
          // Every block is decoded, in order, to keep the HPACK state in step with the host's.
          const { ended, parts } = this.block!;
          this.block = undefined;
          const headers = this.decoder.decode(Buffer.concat(parts));
          if (!s) return;
          for (const [k, v] of headers) s.headers.set(k, v);
          if (ended) this.finish(id, s);
        }
        return;
      }
    }
  }

  private finish(id: number, s: PendingStream) {
    this.streams.delete(id);
    s.resolve({ data: Buffer.concat(s.data), headers: s.headers });
  }

  /** One unary call; rejects with a UnaryFailure-shaped error when the status is not OK. */
  async unary(
    // biome-ignore lint/suspicious/noExplicitAny: a generated grpc service method definition
    method: any,
    request: unknown,
    timeoutMs: number,
  ): Promise<unknown> {
    await this.connect();
    if (this.closedError) throw this.closedError;
    const message = Buffer.from(method.requestSerialize(request));
    const body = Buffer.alloc(5 + message.length);
    body.writeUInt32BE(message.length, 1);
    message.copy(body, 5);
    const id = this.nextStream;
    this.nextStream += 2;
    const literal = (name: string, value: string) => {
      const enc = (s: string) => {
        const bytes = Buffer.from(s, "latin1");
        const len: number[] = [];
        let n = bytes.length;
        if (n < 127) len.push(n);
        else {
          len.push(127);
          n -= 127;
          while (n >= 128) {
            len.push((n & 0x7f) | 0x80);
            n = Math.floor(n / 128);
          }
          len.push(n);
        }
        return Buffer.concat([Buffer.from(len), bytes]);
      };
      return Buffer.concat([Buffer.from([0]), enc(name), enc(value)]);
    };
    const headerBlock = Buffer.concat([
      literal(":method", "POST"),
      literal(":scheme", "http"),
      literal(":path", method.path),
      literal(":authority", `127.0.0.1:${this.port}`),
      literal("content-type", "application/grpc"),
      literal("te", "trailers"),
    ]);
    const response = await new Promise<{ data: Buffer; headers: Map<string, string | undefined> }>(
      (resolve, reject) => {
        const timer = setTimeout(() => {
          if (!this.streams.delete(id)) return;
          const cancel = Buffer.alloc(4);
          cancel.writeUInt32BE(0x8);
          this.frame(FRAME.RST_STREAM, 0, id, cancel);
          reject(new Error(`${method.path}: no answer within ${timeoutMs} ms`));
        }, timeoutMs);
        this.streams.set(id, {
          headers: new Map(),
          data: [],
          resolve: (r) => {
            clearTimeout(timer);
            resolve(r);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
          send: { payload: body, offset: 0 },
          window: this.peerInitialWindow,
        });
        this.frame(FRAME.HEADERS, FLAG.END_HEADERS, id, headerBlock);
        this.pump();
      },
    );
    const status = Number(response.headers.get("grpc-status") ?? "2");
    if (status !== 0) {
      const bin = response.headers.get("grpc-status-details-bin");
      const raw = response.headers.get("grpc-message");
      let details = raw === undefined ? "" : raw;
      try {
        details = decodeURIComponent(details);
      } catch {}
      const failure: UnaryFailure = {
        code: status,
        details,
        ...(bin ? { statusDetails: new Uint8Array(Buffer.from(bin, "base64")) } : {}),
      };
      throw Object.assign(new Error(details), failure);
    }
    const data = response.data;
    if (data.length < 5 || data[0] !== 0)
      throw new Error(`${method.path}: no (uncompressed) response message`);
    return method.responseDeserialize(data.subarray(5, 5 + data.readUInt32BE(1)));
  }

  close() {
    this.socket?.destroy();
  }
}

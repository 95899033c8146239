/**
 * @pulumi/pulumi's own dynamic-provider host (`node_modules/@pulumi/pulumi/cmd/dynamic-provider`), started
 * and driven over gRPC the way the Pulumi engine does it, so that a test can prove a dynamic provider
 * survives serialization without the Pulumi CLI.
 *
 * What the engine does, and this harness copies (pulumi/pulumi pkg/resource/plugin, pkg/host):
 * - It runs the `pulumi-resource-pulumi-nodejs` shim, which is `node <dynamic-provider> <engine address>`:
 *   no Node flags, the user's environment plus PULUMI_NODEJS_PROJECT / PULUMI_PROJECT (the project name),
 *   PULUMI_CONFIG (only the `pulumi-nodejs:` namespace, so usually `{}`) and PULUMI_RUNTIME_<OPTION> for the
 *   project's runtime options, in the project directory.
 * - The host prints its port as the first line of stdout; later stdout/stderr lines are logs (pulumi.log
 *   writes `info: [runtime] ...` there when no engine connection is configured, as here).
 * - GetPluginInfo, then Configure with the WHOLE stack config for dynamic providers, keys keeping their
 *   namespace (`aoRegistry:wallet`), secret values wrapped as RPC secrets (`secret()` below). The host
 *   unwraps them and calls the provider's `configure({ config })` when it first deserializes it.
 * - Then Check / Diff / Create / Read / Update / Delete, each carrying the serialized provider in the
 *   `__provider` property. The host answers `acceptSecrets: false`, so the engine sends those properties
 *   with secrets unwrapped; `toWire` does the same here (and drops `undefined`, which Struct cannot hold).
 * - A Create or Update that fails after the resource exists returns gRPC status details holding
 *   `pulumirpc.ErrorResourceInitFailed` (ID, properties, reasons): `DynamicHostError.initFailed` here.
 *   Those details can exceed what grpc-js can receive, so Create and Update go through
 *   `EngineTransport` (below), which accepts what the engine's grpc-go accepts; every other call uses
 *   grpc-js with the SDK's generated client.
 *
 * Values in and out are plain JavaScript objects. No call sets a gRPC deadline: grpc-js computes deadlines
 * with Date.now, which @permaweb/ao-loader replaces in any process that loads an AO module (the local
 * network in a test process); calls time out through `callTimeoutMs` instead.
 */
import { type ChildProcess, spawn } from "node:child_process";
import * as path from "node:path";
import { createInterface } from "node:readline";
import type * as grpcTypes from "@grpc/grpc-js";

type Props = Record<string, unknown>;

/** The RPC secret wrapper (`pulumi/sdk/go/common/resource/sig`): `{ [SECRET_SIG_KEY]: SECRET_SIG, value }`. */
export const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
/** The engine's marker for a value not known during preview. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** A value the engine would send as a secret (e.g. a `pulumi config set --secret` value to `configure`). */
export const secret = <T>(value: T) => ({ [SECRET_SIG_KEY]: SECRET_SIG, value });

const isSecret = (v: unknown): v is { value: unknown } =>
  typeof v === "object" && v !== null && (v as Props)[SECRET_SIG_KEY] === SECRET_SIG;

/** Properties as the engine sends them to a host that does not accept secrets: unwrapped, no undefined. */
export function toWire(v: unknown, keepSecrets = false): unknown {
  if (Array.isArray(v)) return v.map((x) => toWire(x, keepSecrets));
  if (isSecret(v)) return keepSecrets ? secret(toWire(v.value, keepSecrets)) : toWire(v.value, keepSecrets);
  if (v && typeof v === "object") {
    const out: Props = {};
    for (const [k, x] of Object.entries(v as Props)) if (x !== undefined) out[k] = toWire(x, keepSecrets);
    return out;
  }
  return v;
}

/** The URN the engine gives a dynamic resource: type `pulumi-nodejs:dynamic/<module>:<type>`. */
export function dynamicUrn(
  name: string,
  opts: { stack?: string; project?: string; module?: string; type?: string } = {},
): string {
  const { stack = "dev", project = "aoRegistry", module, type = "Resource" } = opts;
  return `urn:pulumi:${stack}::${project}::pulumi-nodejs:dynamic${module ? `/${module}` : ""}:${type}::${name}`;
}

export interface InitFailure {
  /** The ID of the resource that exists but did not finish initializing; the engine records it. */
  id: string;
  /** Its properties (outputs), as the engine stores them for the next Diff/Update. */
  properties: Props;
  reasons: string[];
}

/** A failed call: the gRPC status, the host's message, and the init failure when there is one. */
export class DynamicHostError extends Error {
  constructor(
    readonly method: string,
    readonly code: number,
    readonly details: string,
    readonly initFailed?: InitFailure,
  ) {
    super(`${method}: ${details}`);
    this.name = "DynamicHostError";
  }
}

export interface CheckResult {
  inputs: Props;
  failures: { property: string; reason: string }[];
}

export interface DiffResult {
  changes: "unknown" | "none" | "some";
  replaces: string[];
  stables: string[];
  diffs: string[];
  deleteBeforeReplace: boolean;
}

export interface DynamicHostOptions {
  /** The project directory, where the engine starts plugins (and where node_modules is). Default: repo root. */
  cwd?: string;
  /** Project name: PULUMI_NODEJS_PROJECT / PULUMI_PROJECT; `config.get("key")` reads `<project>:key`. */
  project?: string;
  /** Base environment. Default: this process's, without NODE_OPTIONS (the engine passes no Node flags). */
  baseEnv?: Record<string, string | undefined>;
  /** Variables set (or, when undefined, removed) on top of the base environment. */
  env?: Record<string, string | undefined>;
  /** Runtime options from Pulumi.yaml, passed as PULUMI_RUNTIME_<NAME>. Default: none. */
  runtimeOptions?: Record<string, string>;
  /** Each log line of the host (stdout after the port, and stderr). */
  onLog?: (line: string, stream: "stdout" | "stderr") => void;
  /** Per-call timeout, ms (the call is cancelled). Default 300 000. */
  callTimeoutMs?: number;
  /** How long to wait for the port, ms. Default 60 000. */
  startTimeoutMs?: number;
}

export interface DynamicHost {
  /** The raw `pulumirpc.ResourceProviderClient`, for calls this API does not wrap. */
  // biome-ignore lint/suspicious/noExplicitAny: generated gRPC client class without useful typings
  client: any;
  port: number;
  /** PID of the host process. */
  pid: number;
  /** Every log line so far, stdout and stderr. */
  logs: string[];
  /** GetPluginInfo: the SDK version the host reports. */
  pluginInfo(): Promise<{ version: string }>;
  /**
   * Configure with stack config as the engine sends it to a dynamic provider: namespaced keys
   * (`aoRegistry:wallet`), values as strings, secrets wrapped with `secret()`.
   */
  configure(config: Props): Promise<{ acceptSecrets: boolean; acceptResources: boolean }>;
  check(urn: string, olds: Props, news: Props): Promise<CheckResult>;
  diff(urn: string, id: string, olds: Props, news: Props, oldInputs?: Props): Promise<DiffResult>;
  create(
    urn: string,
    properties: Props,
    opts?: { preview?: boolean },
  ): Promise<{ id: string; properties: Props }>;
  read(
    urn: string,
    id: string,
    properties: Props,
    inputs?: Props,
  ): Promise<{ id: string; properties: Props; inputs?: Props }>;
  update(
    urn: string,
    id: string,
    olds: Props,
    news: Props,
    oldInputs?: Props,
  ): Promise<{ properties: Props }>;
  delete(urn: string, id: string, properties: Props, oldInputs?: Props): Promise<void>;
  /** Closes the channel and ends the host (SIGTERM, then SIGKILL after 5 s). */
  stop(): Promise<void>;
}

const REPO = path.join(__dirname, "..", "..");

/** Starts the host and connects to it; the host is not configured yet (call `configure`). */
export async function startDynamicHost(opts: DynamicHostOptions = {}): Promise<DynamicHost> {
  const cwd = opts.cwd ?? REPO;
  const pulumiDir = path.dirname(require.resolve("@pulumi/pulumi/package.json", { paths: [cwd] }));
  // The same copies of grpc-js and google-protobuf that the SDK's generated stubs use.
  const fromSdk = <T>(id: string): T => require(require.resolve(id, { paths: [pulumiDir] })) as T;
  const grpc = fromSdk<typeof grpcTypes>("@grpc/grpc-js");
  // biome-ignore lint/suspicious/noExplicitAny: generated protobuf modules
  type Any = any;
  const provrpc = fromSdk<Any>("@pulumi/pulumi/proto/provider_grpc_pb");
  const provproto = fromSdk<Any>("@pulumi/pulumi/proto/provider_pb");
  const statusproto = fromSdk<Any>("@pulumi/pulumi/proto/status_pb");
  const emptyproto = fromSdk<Any>("google-protobuf/google/protobuf/empty_pb");
  const structproto = fromSdk<Any>("google-protobuf/google/protobuf/struct_pb");

  const project = opts.project ?? "aoRegistry";
  const env: Record<string, string | undefined> = { ...(opts.baseEnv ?? process.env) };
  delete env.NODE_OPTIONS;
  for (const [k, v] of Object.entries(opts.runtimeOptions ?? {}))
    env[`PULUMI_RUNTIME_${k.toUpperCase()}`] = v;
  env.PULUMI_NODEJS_PROJECT = project;
  env.PULUMI_PROJECT = project;
  env.PULUMI_CONFIG = "{}";
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }

  const main = path.join(pulumiDir, "cmd", "dynamic-provider", "index.js");
  // The engine's address is the one argument; this host only checks that it is there.
  const child: ChildProcess = spawn(process.execPath, [main, "127.0.0.1:0"], {
    cwd,
    env: env as NodeJS.ProcessEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  // Like the engine, which kills its plugins: a host must not outlive the process that started it.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  child.once("exit", () => process.removeListener("exit", killOnExit));
  const logs: string[] = [];
  const log = (line: string, stream: "stdout" | "stderr") => {
    logs.push(line);
    opts.onLog?.(line, stream);
  };
  createInterface({ input: child.stderr! }).on("line", (l) => log(l, "stderr"));
  const stdout = createInterface({ input: child.stdout! });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(`the dynamic-provider host printed no port within ${opts.startTimeoutMs ?? 60_000} ms`),
          ),
        opts.startTimeoutMs ?? 60_000,
      );
      child.once("error", (e) => {
        clearTimeout(timer);
        reject(e);
      });
      exited.then((code) => {
        clearTimeout(timer);
        reject(
          new Error(
            `the dynamic-provider host exited (code ${code}) before printing its port:\n${logs.join("\n")}`,
          ),
        );
      });
      stdout.once("line", (line) => {
        clearTimeout(timer);
        const p = Number(line.trim());
        if (Number.isInteger(p) && p > 0) resolve(p);
        else reject(new Error(`the dynamic-provider host wrote an invalid port: ${JSON.stringify(line)}`));
      });
    });
  } catch (e) {
    if (child.exitCode === null) child.kill("SIGKILL");
    throw e;
  }
  stdout.on("line", (l) => log(l, "stdout"));

  const client = new provrpc.ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const callTimeoutMs = opts.callTimeoutMs ?? 300_000;

  const transport = new EngineTransport(port);

  /** ErrorResourceInitFailed from a serialized google.rpc.Status, and the Status message. */
  const statusOf = (bin: Uint8Array | undefined): { message?: string; initFailed?: InitFailure } => {
    if (!bin) return {};
    const status = statusproto.Status.deserializeBinary(bin);
    for (const d of status.getDetailsList()) {
      if (d.getTypeName() !== "pulumirpc.ErrorResourceInitFailed") continue;
      const f = provproto.ErrorResourceInitFailed.deserializeBinary(d.getValue_asU8());
      return {
        message: status.getMessage(),
        initFailed: {
          id: f.getId(),
          properties: f.getProperties()?.toJavaScript() ?? {},
          reasons: f.getReasonsList(),
        },
      };
    }
    return { message: status.getMessage() };
  };

  /** A call through grpc-js; its errors never carry init failures (see EngineTransport). */
  const call = <T>(method: string, req: Any): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      let done = false;
      const rpc = client[method](req, (err: Any, res: T) => {
        done = true;
        clearTimeout(timer);
        if (!err) resolve(res);
        else reject(new DynamicHostError(method, err.code ?? -1, err.details ?? err.message));
      });
      const timer = setTimeout(() => {
        if (!done) rpc.cancel();
      }, callTimeoutMs);
    });

  /** A call through the engine's transport, for Create and Update: init failures come back whole. */
  const engineCall = async <T>(method: "create" | "update", req: Any): Promise<T> => {
    try {
      return (await transport.unary(provrpc.ResourceProviderService[method], req, callTimeoutMs)) as T;
    } catch (e) {
      const f = e as Error & { code?: number; details?: string; statusDetails?: Uint8Array };
      if (f.code === undefined) throw new DynamicHostError(method, -1, f.message);
      const status = statusOf(f.statusDetails);
      throw new DynamicHostError(method, f.code, f.details || status.message || "", status.initFailed);
    }
  };

  const struct = (o: Props, keepSecrets = false) => structproto.Struct.fromJavaScript(toWire(o, keepSecrets));
  const js = (s: Any): Props => (s ? (s.toJavaScript() as Props) : {});
  const named = (req: Any, urn: string) => {
    req.setUrn(urn);
    const parts = urn.split("::");
    req.setType(parts[2] ?? "");
    req.setName(parts[3] ?? "");
    return req;
  };
  const CHANGES = ["unknown", "none", "some"] as const;

  const host: DynamicHost = {
    client,
    port,
    pid: child.pid!,
    logs,
    async pluginInfo() {
      const res = await call<Any>("getPluginInfo", new emptyproto.Empty());
      return { version: res.getVersion() };
    },
    async configure(config) {
      const req = new provproto.ConfigureRequest();
      req.setType("pulumi:providers:pulumi-nodejs");
      req.setName("default");
      req.setArgs(struct(config, true));
      // The deprecated `variables` map: `<pkg>:config:<key>` -> plaintext string.
      const vars = req.getVariablesMap();
      for (const [k, v] of Object.entries(toWire(config) as Props)) {
        vars.set(`pulumi-nodejs:config:${k}`, typeof v === "string" ? v : JSON.stringify(v));
      }
      req.setAcceptsecrets(true);
      req.setAcceptresources(true);
      req.setSendsOldInputs(true);
      req.setSendsOldInputsToDelete(true);
      const res = await call<Any>("configure", req);
      return { acceptSecrets: res.getAcceptsecrets(), acceptResources: res.getAcceptresources() };
    },
    async check(urn, olds, news) {
      const req = named(new provproto.CheckRequest(), urn);
      req.setOlds(struct(olds));
      req.setNews(struct(news));
      const res = await call<Any>("check", req);
      return {
        inputs: js(res.getInputs()),
        failures: res
          .getFailuresList()
          .map((f: Any) => ({ property: f.getProperty(), reason: f.getReason() })),
      };
    },
    async diff(urn, id, olds, news, oldInputs) {
      const req = named(new provproto.DiffRequest(), urn);
      req.setId(id);
      req.setOlds(struct(olds));
      req.setNews(struct(news));
      if (oldInputs) req.setOldInputs(struct(oldInputs));
      const res = await call<Any>("diff", req);
      return {
        changes: CHANGES[res.getChanges() as 0 | 1 | 2] ?? "unknown",
        replaces: res.getReplacesList(),
        stables: res.getStablesList(),
        diffs: res.getDiffsList(),
        deleteBeforeReplace: res.getDeletebeforereplace(),
      };
    },
    async create(urn, properties, { preview = false } = {}) {
      const req = named(new provproto.CreateRequest(), urn);
      req.setProperties(struct(properties));
      req.setTimeout(0);
      req.setPreview(preview);
      const res = await engineCall<Any>("create", req);
      return { id: res.getId(), properties: js(res.getProperties()) };
    },
    async read(urn, id, properties, inputs) {
      const req = named(new provproto.ReadRequest(), urn);
      req.setId(id);
      req.setProperties(struct(properties));
      if (inputs) req.setInputs(struct(inputs));
      const res = await call<Any>("read", req);
      return {
        id: res.getId(),
        properties: js(res.getProperties()),
        ...(res.getInputs() ? { inputs: js(res.getInputs()) } : {}),
      };
    },
    async update(urn, id, olds, news, oldInputs) {
      const req = named(new provproto.UpdateRequest(), urn);
      req.setId(id);
      req.setOlds(struct(olds));
      req.setNews(struct(news));
      if (oldInputs) req.setOldInputs(struct(oldInputs));
      req.setTimeout(0);
      req.setPreview(false);
      const res = await engineCall<Any>("update", req);
      return { properties: js(res.getProperties()) };
    },
    async delete(urn, id, properties, oldInputs) {
      const req = named(new provproto.DeleteRequest(), urn);
      req.setId(id);
      req.setProperties(struct(properties));
      if (oldInputs) req.setOldInputs(struct(oldInputs));
      req.setTimeout(0);
      await call<Any>("delete", req);
    },
    async stop() {
      client.close();
      transport.close();
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(killer);
    },
  };
  return host;
}

// ---------------------------------------------------------------------------------------------------
// The engine's transport for Create and Update.
//
// A Create or Update that fails after the resource exists answers with ErrorResourceInitFailed in the
// `grpc-status-details-bin` trailer: a base64 google.rpc.Status holding the resource's properties, here
// with the serialized provider (~80 KB) and the code. The engine (grpc-go) accepts header lists up to
// 16 MiB; every nghttp2-based client, grpc-js and Node's http2 included, refuses any single header field
// over 64 KiB (NGHTTP2_HD_MAX_NV) and resets the stream ("Received RST_STREAM with code 2 ... Protocol
// error"). So these two calls go over a minimal HTTP/2 client (prior-knowledge h2c, unary gRPC, HPACK
// decoding) that accepts what the engine accepts. Requests use the SDK's generated service definition.

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
    if (this.connecting) return this.connecting;
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

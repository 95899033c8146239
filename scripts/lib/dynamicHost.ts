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
 *   `pulumirpc.ErrorResourceInitFailed` (ID, properties, reasons) in the `grpc-status-details-bin`
 *   trailer: `DynamicHostError.initFailed` here. Every call goes through grpc-js with the SDK's generated
 *   client. grpc-js (nghttp2) resets a stream whose trailers exceed 64 KiB where the engine's grpc-go
 *   accepts 16 MiB; the AoProcess provider keeps its errors far below that (providers/hostError.ts), and
 *   such a reset surfaces here as an error that names the limit.
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
/** The engine's marker for a value not known during preview (its one definition: providers/aoValues.ts). */
export { UNKNOWN } from "./engine/programHost";

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
  /**
   * The first log line matching `pattern`, once it has arrived. The host writes a log line before it
   * answers the call that logged it, but the line comes through a pipe and the answer through a socket,
   * so here the answer can be read first.
   */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
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

/** Why grpc-js resets a stream the host answered: its trailers (an error's details) are over 64 KiB. */
const TRAILER_LIMIT_HINT =
  "grpc-js resets a stream whose trailers exceed 64 KiB; the engine's grpc-go accepts them: the provider's error is too large";

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
  const logWaiters = new Set<(line: string) => void>();
  const log = (line: string, stream: "stdout" | "stderr") => {
    logs.push(line);
    opts.onLog?.(line, stream);
    for (const w of logWaiters) w(line);
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
      // `exited` only ever resolves.
      void exited.then((code) => {
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

  /** A unary call; a failure carries the host's message and, for Create/Update, the init failure. */
  const call = <T>(method: string, req: Any): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      let done = false;
      const rpc = client[method](req, (err: grpcTypes.ServiceError | null, res: T) => {
        done = true;
        clearTimeout(timer);
        if (!err) return resolve(res);
        const [bin] = err.metadata?.get("grpc-status-details-bin") ?? [];
        const status = statusOf(typeof bin === "string" ? Buffer.from(bin, "base64") : bin);
        const details = err.details || status.message || "";
        reject(
          new DynamicHostError(
            method,
            err.code ?? -1,
            /RST_STREAM/.test(details) ? `${details} (${TRAILER_LIMIT_HINT})` : details,
            status.initFailed,
          ),
        );
      });
      const timer = setTimeout(() => {
        if (!done) rpc.cancel();
      }, callTimeoutMs);
    });

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
    waitForLog(pattern, timeoutMs = 10_000) {
      const seen = logs.find((l) => pattern.test(l));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise<string>((resolve, reject) => {
        const done = (finish: () => void) => {
          logWaiters.delete(waiter);
          clearTimeout(timer);
          finish();
        };
        const waiter = (line: string) => {
          if (pattern.test(line)) done(() => resolve(line));
        };
        const timer = setTimeout(
          () =>
            done(() =>
              reject(
                new Error(`no log line matching ${pattern} within ${timeoutMs} ms:\n${logs.join("\n")}`),
              ),
            ),
          timeoutMs,
        );
        logWaiters.add(waiter);
      });
    },
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
      const res = await call<Any>("create", req);
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
      const res = await call<Any>("update", req);
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
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(killer);
    },
  };
  return host;
}

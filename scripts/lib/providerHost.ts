/**
 * Drives @pulumi/pulumi's real dynamic-provider host (node_modules/@pulumi/pulumi/cmd/dynamic-provider)
 * over gRPC, the way the Pulumi engine does: the host is a child process that prints its port; each
 * resource's serialized provider travels in the `__provider` property; Configure, Check and Create are
 * the engine's calls for a new resource. Credentials reach the host only through its environment, as
 * they reach it from the engine.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";

// biome-ignore lint/suspicious/noExplicitAny: generated gRPC/protobuf modules without useful typings here
type Any = any;

const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
export const UNKNOWN_VALUE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/**
 * Properties as the engine sends them to a provider that does not accept secrets: secret wrappers
 * unwrapped, undefined dropped (Struct has no undefined).
 */
export function toWire(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(toWire);
  if (v && typeof v === "object") {
    const o = v as Record<string, unknown>;
    if (o[SIG_KEY] === SECRET_SIG) return toWire(o.value);
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o)) if (x !== undefined) out[k] = toWire(x);
    return out;
  }
  return v;
}

export class ProviderCallError extends Error {
  constructor(
    readonly method: string,
    message: string,
    /** Set when the provider reported an init error (the resource exists but did not finish). */
    readonly initFailedId?: string,
  ) {
    super(message);
    this.name = "ProviderCallError";
  }
}

export interface ProviderHost {
  configure(): Promise<void>;
  check(
    urn: string,
    olds: Record<string, unknown>,
    news: Record<string, unknown>,
  ): Promise<Record<string, unknown>>;
  create(
    urn: string,
    props: Record<string, unknown>,
  ): Promise<{ id: string; properties: Record<string, unknown> }>;
  stop(): Promise<void>;
}

export async function startProviderHost(opts: {
  repoRoot: string;
  env: Record<string, string | undefined>;
  log?: (line: string) => void;
}): Promise<ProviderHost> {
  const grpc = require("@grpc/grpc-js") as Any;
  const provrpc = require("@pulumi/pulumi/proto/provider_grpc_pb") as Any;
  const provproto = require("@pulumi/pulumi/proto/provider_pb") as Any;
  const structproto = require("google-protobuf/google/protobuf/struct_pb") as Any;
  const statusproto = require("@pulumi/pulumi/proto/status_pb") as Any;

  const hostMain = join(
    opts.repoRoot,
    "node_modules",
    "@pulumi",
    "pulumi",
    "cmd",
    "dynamic-provider",
    "index.js",
  );
  // The engine address is required on the command line; the host only logs through it.
  const child: ChildProcess = spawn(process.execPath, [hostMain, "127.0.0.1:1"], {
    cwd: opts.repoRoot,
    env: opts.env as NodeJS.ProcessEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  // The host must not outlive this process, whatever ends it.
  const killHost = () => {
    if (child.exitCode === null) child.kill("SIGKILL");
  };
  process.once("exit", killHost);
  const log = opts.log ?? (() => {});
  child.stderr!.on("data", (d: Buffer) => log(d.toString().trimEnd()));
  const lines = createInterface({ input: child.stdout! });
  const port = await new Promise<string>((resolve, reject) => {
    child.once("exit", (code) =>
      reject(new Error(`the dynamic-provider host exited (code ${code}) before listening`)),
    );
    lines.once("line", (l) => resolve(l.trim()));
  });
  lines.on("line", (l) => log(l));
  const client = new provrpc.ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());

  const call = <T>(method: string, req: Any): Promise<T> =>
    new Promise((resolve, reject) => {
      client[method](req, (err: Any, res: T) => {
        if (!err) return resolve(res);
        let initFailedId: string | undefined;
        const bin = err.metadata?.get("grpc-status-details-bin")?.[0];
        if (bin) {
          const status = statusproto.Status.deserializeBinary(new Uint8Array(bin));
          for (const d of status.getDetailsList()) {
            if (d.getTypeName() === "pulumirpc.ErrorResourceInitFailed") {
              initFailedId = provproto.ErrorResourceInitFailed.deserializeBinary(d.getValue_asU8()).getId();
            }
          }
        }
        reject(new ProviderCallError(method, `${method}: ${err.details ?? err.message}`, initFailedId));
      });
    });
  const struct = (o: Record<string, unknown>) => structproto.Struct.fromJavaScript(toWire(o));

  return {
    async configure() {
      const req = new provproto.ConfigureRequest();
      req.setArgs(structproto.Struct.fromJavaScript({}));
      req.setAcceptsecrets(false);
      req.setAcceptresources(false);
      await call("configure", req);
    },
    async check(urn, olds, news) {
      const req = new provproto.CheckRequest();
      req.setUrn(urn);
      req.setOlds(struct(olds));
      req.setNews(struct(news));
      const res = await call<Any>("check", req);
      const failures = res.getFailuresList().map((f: Any) => `${f.getProperty()}: ${f.getReason()}`);
      if (failures.length)
        throw new ProviderCallError("check", `check failed for ${urn}:\n  ${failures.join("\n  ")}`);
      return res.getInputs().toJavaScript();
    },
    async create(urn, props) {
      const req = new provproto.CreateRequest();
      req.setUrn(urn);
      req.setProperties(struct(props));
      req.setTimeout(0);
      req.setPreview(false);
      const res = await call<Any>("create", req);
      return { id: res.getId(), properties: res.getProperties().toJavaScript() };
    },
    async stop() {
      process.removeListener("exit", killHost);
      client.close();
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await new Promise((r) => child.once("exit", r));
      }
    },
  };
}

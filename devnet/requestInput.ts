import { isUtf8 } from "node:buffer";
import type { IncomingMessage } from "node:http";
import { type ZodIssue, type ZodType, type ZodTypeDef, z } from "zod";

/** A request the units refuse; `status` is the HTTP status to answer with, `message` names the problem. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Bytes discarded after a 413 before the connection is cut: enough for the client to see the answer. */
const DRAIN_LIMIT = 64 * 1024 * 1024;

/**
 * The body of `req`, at most `limit` bytes. Over the limit it answers 413 (naming the limit) and keeps reading
 * what the client still sends, discarding it: a server that closes a socket with unread bytes makes the
 * kernel reset the connection, and the client then loses the answer.
 */
export function readBody(req: IncomingMessage, limit: number, route: string): Promise<Buffer> {
  const tooLarge = () =>
    new HttpError(
      413,
      `request body over the limit of ${limit} bytes for ${route}: send at most ${limit} bytes`,
    );
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"]);
    if (declared > limit) return drainThenReject(req, tooLarge(), reject);
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer) => {
      size += c.length;
      if (size <= limit) {
        chunks.push(c);
        return;
      }
      req.off("data", onData);
      chunks.length = 0;
      drainThenReject(req, tooLarge(), reject);
    };
    req.on("data", onData);
    req.on("end", () => {
      if (size <= limit) resolve(Buffer.concat(chunks));
    });
    req.on("error", reject);
  });
}

function drainThenReject(req: IncomingMessage, err: HttpError, reject: (e: HttpError) => void): void {
  discardBody(req);
  reject(err);
}

/**
 * Reads and discards what is left of a body that was partly read (up to 64 MiB, then the connection is
 * cut), so that the answer reaches the client. (A body never read at all, Node's server discards itself.)
 */
function discardBody(req: IncomingMessage): void {
  let discarded = 0;
  req.on("data", (c: Buffer) => {
    discarded += c.length;
    if (discarded > DRAIN_LIMIT) req.socket.destroy();
  });
  req.resume();
}

/** `Tags[0].name` for zod's path `["Tags", 0, "name"]`. */
function pathOf(path: (string | number)[]): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
}

function describeIssue(issue: ZodIssue): string {
  const where = pathOf(issue.path);
  return where ? `${where}: ${issue.message}` : issue.message;
}

/** A JSON body of `route` checked against `schema`; a 400 names the first field at fault. */
export async function readJson<T>(
  req: IncomingMessage,
  limit: number,
  route: string,
  schema: ZodType<T, ZodTypeDef, unknown>,
): Promise<T> {
  const raw = await readBody(req, limit, route);
  let value: unknown;
  try {
    value = JSON.parse(raw.toString("utf8"));
  } catch (err) {
    throw new HttpError(
      400,
      `the body of ${route} is not JSON (${(err as Error).message}): send a JSON object`,
    );
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new HttpError(
      400,
      `invalid body for ${route}: ${parsed.error.issues.map(describeIssue).join("; ")}`,
    );
  }
  return parsed.data;
}

/**
 * The query parameters of `route` (the raw query string, after `?`), checked against `shape` (a schema per
 * parameter it takes). Names and values are form-decoded strictly (`percentDecode`, `+` a space). A
 * parameter given twice, one the route does not take, an empty one (`&&`), or one with an empty value
 * (`limit=`, `limit`) is refused: each is a 400 naming it.
 */
export function readQuery<S extends z.ZodRawShape>(
  rawQuery: string,
  route: string,
  shape: S,
): z.infer<z.ZodObject<S>> {
  const values: Record<string, string> = {};
  for (const [name, value] of parseQuery(rawQuery, route)) {
    if (!Object.hasOwn(shape, name)) {
      const known = Object.keys(shape);
      throw new HttpError(
        400,
        `unknown query parameter ${JSON.stringify(name)} for ${route}: ${known.length ? `it takes ${known.join(", ")}` : "it takes none"}`,
      );
    }
    if (Object.hasOwn(values, name))
      throw new HttpError(400, `query parameter ${name} is given twice: give it once`);
    if (value === "")
      throw new HttpError(
        400,
        `query parameter ${name} is empty for ${route}: give it a value, or leave it out for its default`,
      );
    values[name] = value;
  }
  const parsed = z.object(shape).safeParse(values);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0]);
    const problem =
      values[name] === undefined
        ? `query parameter ${name} is missing for ${route}: it is required`
        : `query parameter ${name}=${JSON.stringify(values[name])} is invalid for ${route}: ${issue.message}`;
    throw new HttpError(400, problem);
  }
  return parsed.data;
}

/** A raw query string as `[name, value]` pairs, form-decoded (`+` a space, then `percentDecode`). */
function parseQuery(rawQuery: string, route: string): [string, string][] {
  if (rawQuery === "") return [];
  return rawQuery.split("&").map((part) => {
    if (part === "")
      throw new HttpError(
        400,
        `an empty query parameter (&& or an & at an end) for ${route}: send name=value pairs joined by single &`,
      );
    const eq = part.indexOf("=");
    const form = (s: string) => s.replace(/\+/g, " ");
    const name = percentDecode(form(eq === -1 ? part : part.slice(0, eq)), "a query parameter's name", route);
    const value = eq === -1 ? "" : percentDecode(form(part.slice(eq + 1)), `query parameter ${name}`, route);
    return [name, value];
  });
}

/**
 * `value` percent-decoded strictly: every `%` starts an escape of two hexadecimal digits, and the bytes
 * each run of escapes makes are UTF-8; anything else is a 400 naming `what`, never taken literally.
 * (HyperBEAM's own path parser refuses such escapes too: hb_singleton:decode_string throws
 * `cannot_decode` when uri_string:unquote fails, permaweb/HyperBEAM src/hb_singleton.erl.)
 */
export function percentDecode(value: string, what: string, route: string): string {
  const bad = /%(?![0-9A-Fa-f]{2})/.exec(value);
  if (bad)
    throw new HttpError(
      400,
      `${what} in ${route} has a bad percent-escape ${JSON.stringify(value.slice(bad.index, bad.index + 3))}: write % as %25, and escape bytes as % and two hexadecimal digits`,
    );
  return value.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    const bytes = Buffer.from(run.replaceAll("%", ""), "hex");
    if (!isUtf8(bytes))
      throw new HttpError(
        400,
        `${what} in ${route} has percent-escapes ${JSON.stringify(run)} that are not UTF-8: escape the UTF-8 bytes of the text`,
      );
    return bytes.toString("utf8");
  });
}

/** The end of a HyperBEAM dry-run's path, after which come its tags (devnet/hyperbeamPaths.ts). */
export const DRY_RUN_PATH_END = "/as=execution/compute";

/**
 * The path and raw query of a request as the client sent them: routes match the path as it is, never
 * after a URL parser has normalised it (WHATWG's would read `//push` as a host, resolve `/a/../push` and
 * `%2e`, and turn `\` into `/`). A target that is not a path, or a path with an empty segment (`//`; a
 * single trailing `/` is allowed), a dot segment (`.`, `..`, also escaped) or a backslash, is a 400. The
 * tags after a HyperBEAM dry-run's `as=execution/compute` are values, not segments: not checked here.
 */
export function requestTarget(url: string | undefined): { path: string; query: string } {
  const raw = url ?? "/";
  if (!raw.startsWith("/"))
    throw new HttpError(
      400,
      `request target ${JSON.stringify(raw.slice(0, 100))} is not a path: send the path alone (such as /su/<process id>), not a full URL`,
    );
  const q = raw.indexOf("?");
  const path = q === -1 ? raw : raw.slice(0, q);
  const query = q === -1 ? "" : raw.slice(q + 1);
  const tail = path.indexOf(DRY_RUN_PATH_END);
  const head = tail === -1 ? path : path.slice(0, tail + DRY_RUN_PATH_END.length);
  const refuse = (problem: string) =>
    new HttpError(
      400,
      `${problem} in the path ${JSON.stringify(path.slice(0, 200))}: send the route's path as it is documented`,
    );
  if (head.includes("\\")) throw refuse("a backslash");
  const segments = head.split("/").slice(1);
  for (const [i, segment] of segments.entries()) {
    if (segment === "" && i < segments.length - 1) throw refuse("an empty segment (//)");
    if (/^(?:\.|%2e){1,2}$/i.test(segment)) throw refuse(`a dot segment (${JSON.stringify(segment)})`);
  }
  return { path, query };
}

/** Who is asking: the connecting peer's address (never a header or a claimed Owner, which anyone can set). */
export function peerOf(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? "unknown peer";
}

/** An Arweave/AO ID: 43 characters of base64url. */
export const aoId = z.string().regex(/^[A-Za-z0-9_-]{43}$/, "use a 43-character base64url ID");

/** An ID in a route's path; a malformed one is a 400 rather than a lookup that cannot succeed. */
export function pathId(value: string, what: string, route: string): string {
  const id = percentDecode(value, what, route);
  if (!aoId.safeParse(id).success) {
    throw new HttpError(
      400,
      `invalid ${what} ${JSON.stringify(id)} in ${route}: use a 43-character base64url ID`,
    );
  }
  return id;
}

/** A page size from 1 to `max`. */
export const pageLimit = (max: number) =>
  z
    .string()
    .regex(/^\d+$/, `use an integer from 1 to ${max}`)
    .transform(Number)
    .refine((n) => n >= 1 && n <= max, `use an integer from 1 to ${max}`);

/** A time in milliseconds since the epoch, as the scheduler's timestamps are. */
export const timestampParam = z
  .string()
  .regex(/^\d{1,15}$/, "use a timestamp: milliseconds since the epoch, digits only")
  .transform(Number);

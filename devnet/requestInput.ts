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
 * The query parameters of `route`, checked against `shape` (a schema per parameter it takes). A parameter
 * given twice, or one the route does not take, is refused; an empty value counts as absent.
 */
export function readQuery<S extends z.ZodRawShape>(
  params: URLSearchParams,
  route: string,
  shape: S,
): z.infer<z.ZodObject<S>> {
  const values: Record<string, string> = {};
  for (const [name, value] of params) {
    if (!Object.hasOwn(shape, name)) {
      const known = Object.keys(shape);
      throw new HttpError(
        400,
        `unknown query parameter ${JSON.stringify(name)} for ${route}: ${known.length ? `it takes ${known.join(", ")}` : "it takes none"}`,
      );
    }
    if (Object.hasOwn(values, name))
      throw new HttpError(400, `query parameter ${name} is given twice: give it once`);
    values[name] = value;
  }
  const present = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== ""));
  const parsed = z.object(shape).safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0]);
    const problem =
      present[name] === undefined
        ? `query parameter ${name} is missing for ${route}: it is required`
        : `query parameter ${name}=${JSON.stringify(present[name])} is invalid for ${route}: ${issue.message}`;
    throw new HttpError(400, problem);
  }
  return parsed.data;
}

/** Who is asking: the connecting peer's address (never a header or a claimed Owner, which anyone can set). */
export function peerOf(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? "unknown peer";
}

/** An Arweave/AO ID: 43 characters of base64url. */
export const aoId = z.string().regex(/^[A-Za-z0-9_-]{43}$/, "use a 43-character base64url ID");

/**
 * A percent-decoded part of a path. Each run of `%XX` escapes is decoded on its own, and one that is not
 * UTF-8 is kept as it stands: aoconnect writes tag values into HyperBEAM paths unencoded and URL encoding
 * escapes only some characters, so a literal `%` arrives beside escapes that must be decoded.
 */
export function decodePathPart(value: string): string {
  return value.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });
}

/** An ID in a route's path; a malformed one is a 400 rather than a lookup that cannot succeed. */
export function pathId(value: string, what: string, route: string): string {
  const id = decodePathPart(value);
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

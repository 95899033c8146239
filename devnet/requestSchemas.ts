import { z } from "zod";
import { aoId, pageLimit, timestampParam } from "./requestInput";

/** Bodies of `POST /` (a data item) and `POST /dry-run` (a message as JSON): as large as a message may be. */
export const MESSAGE_BODY_LIMIT = 16 * 1024 * 1024;
/** A GraphQL request: the queries clients make are a few KiB (more with many IDs); tokens, nesting and cost
 * are limited separately. */
export const GRAPHQL_BODY_LIMIT = 1024 * 1024;

const tag = z.object(
  {
    name: z.string({ invalid_type_error: "must be a string" }),
    value: z.string({ invalid_type_error: "must be a string" }),
  },
  { invalid_type_error: "must be an object { name, value } of strings" },
);
const count = z.number().int().nonnegative().safe();

/**
 * A dry-run message, as aoconnect sends it (its own fields plus whatever else the caller passed). Fields
 * the compute unit or aos read are typed; other fields may be JSON scalars, as a message's fields are.
 */
export const dryRunBody = z
  .object({
    Id: z.string().optional(),
    Owner: z.string().optional(),
    From: z.string().optional(),
    Target: z.string().optional(),
    Anchor: z.string().optional(),
    Signature: z.string().optional(),
    Data: z
      .union([z.string(), z.number().finite()], {
        errorMap: () => ({ message: "must be a string (or a number)" }),
      })
      .optional(),
    Tags: z.array(tag, { invalid_type_error: "must be a list of { name, value } objects" }).default([]),
    Timestamp: count.optional(),
    "Block-Height": count.optional(),
    Cron: z.boolean().optional(),
  })
  .catchall(
    z.union([z.string(), z.number().finite(), z.boolean(), z.null()], {
      errorMap: () => ({ message: "must be a string, a number, a boolean or null" }),
    }),
  );

/** A GraphQL request (GraphQL over HTTP). */
export const graphqlBody = z.object({
  query: z.string({
    required_error: "is required: a GraphQL request has a query string",
    invalid_type_error: "must be a string",
  }),
  variables: z
    .record(z.unknown(), { invalid_type_error: "must be an object mapping variable names to values" })
    .nullish(),
  operationName: z.string({ invalid_type_error: "must be a string" }).nullish(),
});

const processIdParam = { "process-id": aoId };

/** A slot of a process's schedule: its nonce, digits only. */
const slotParam = z
  .string()
  .regex(/^\d{1,15}$/, "use a slot number, digits only")
  .transform(Number);

/** `/results/<pid>` bounds: a cursor from a previous page, or a plain timestamp. */
const cursorParam = z.string().transform((value, ctx) => {
  const timestamp = timestampParam.safeParse(value);
  if (timestamp.success) return { timestamp: timestamp.data, ordinate: Number.POSITIVE_INFINITY };
  try {
    const c = JSON.parse(Buffer.from(value, "base64url").toString("utf8")) as Record<string, unknown>;
    if (Number.isSafeInteger(c.timestamp) && Number.isSafeInteger(c.ordinate)) {
      return { timestamp: c.timestamp as number, ordinate: c.ordinate as number };
    }
  } catch {
    // reported below
  }
  ctx.addIssue({ code: "custom", message: "pass a cursor from a previous /results page, or a timestamp" });
  return z.NEVER;
});

/** The query parameters each route takes. */
export const queries = {
  none: {},
  result: { "process-id": aoId },
  dryRun: processIdParam,
  results: {
    sort: z
      .string()
      .transform((s) => s.toUpperCase())
      .pipe(z.enum(["ASC", "DESC"], { errorMap: () => ({ message: "use ASC or DESC" }) }))
      .default("ASC"),
    limit: pageLimit(1000).default("25"),
    from: cursorParam.optional(),
    to: cursorParam.optional(),
  },
  /** The scheduler's schedule (HyperBEAM dev_scheduler get_schedule: `from` and `to` are slots, inclusive). */
  schedule: {
    target: aoId,
    from: slotParam.optional(),
    to: slotParam.optional(),
    accept: z.string().optional(),
  },
  su: {
    "process-id": aoId.optional(),
    from: timestampParam.optional(),
    to: timestampParam.optional(),
    limit: pageLimit(1000).default("100"),
  },
};

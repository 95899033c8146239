/**
 * The resource's input rules, as one zod schema, for `check`: every failure names the property (the
 * issue's path: `endpoints.mu`, `tags[0]`, `validation.skip`), the bad value (shortened, and never
 * anything secret: URL credentials are masked) and how to fix it. Values unknown during preview pass.
 * Pure: no network, no files. The rules for single values (IDs, URLs, endpoints) live in aoValues.ts;
 * like them, the schema is built when it is used (the serializer's rules: see aoValues.ts).
 */
import type { z as Z } from "zod";
import {
  aoIdSchema,
  DEPLOYMENT_ID_TAG,
  endpointsSchema,
  LEGACY_AUTHORITY,
  PREVIEW_UNKNOWN,
  propertyOf,
  rule,
  show,
  upgradeStrategySchema,
} from "./aoValues";
import type { Tag } from "./types";

export interface CheckFailure {
  property: string;
  reason: string;
}

/** Tags the resource or aoconnect sets itself; a `tags` entry cannot override them. */
export const RESERVED_TAGS: Record<string, string> = {
  "Data-Protocol": "set by aoconnect",
  Variant: "set by aoconnect",
  Type: "set by aoconnect",
  Module: "use the `module` property",
  Scheduler: "use the `scheduler` property",
  SDK: "set by aoconnect",
  "Content-Type": "set by aoconnect",
  Name: "use the `name` property",
  Authority: "use the `authority` property",
  [DEPLOYMENT_ID_TAG]: "set by the resource to find its own spawn again",
};

/** ANS-104 limits for data item tags. */
export const MAX_TAGS = 128;
export const MAX_TAG_NAME_BYTES = 1024;
export const MAX_TAG_VALUE_BYTES = 3072;

const bytes = (s: string) => Buffer.byteLength(s, "utf8");

function tagProblems(tag: unknown): string[] {
  const t = tag as Partial<Tag> | null;
  if (typeof t !== "object" || t === null || typeof t.name !== "string" || typeof t.value !== "string")
    return [`${show(tag)} must be { name: string, value: string }`];
  const problems: string[] = [];
  if (t.name === "") problems.push("has an empty name: give the tag a name");
  if (bytes(t.name) > MAX_TAG_NAME_BYTES)
    problems.push(`name ${show(t.name)} is longer than ${MAX_TAG_NAME_BYTES} bytes: shorten it`);
  if (bytes(t.value) > MAX_TAG_VALUE_BYTES)
    problems.push(
      `(${show(t.name)}) value is longer than ${MAX_TAG_VALUE_BYTES} bytes: shorten it or send it as data`,
    );
  const reserved = Object.keys(RESERVED_TAGS).find((r) => r.toLowerCase() === t.name!.toLowerCase());
  if (reserved)
    problems.push(`name ${show(t.name)} is reserved (${RESERVED_TAGS[reserved]}): remove it from tags`);
  return problems;
}

export const booleanRule = () =>
  rule<boolean>((v) => (typeof v === "boolean" ? undefined : `${show(v)} must be true or false`));

/** The raw (unchecked) resource inputs. */
export function inputsSchema() {
  const z = (require("zod") as typeof import("zod")).z;
  const code = rule<string>((v) =>
    typeof v === "string" && v.trim() !== ""
      ? undefined
      : "is empty or not a string: pass the Lua entry file (`entry`) or the code",
  );

  const name = rule<string>((v) =>
    typeof v === "string" && v !== "" && bytes(v) <= MAX_TAG_VALUE_BYTES
      ? undefined
      : `${show(v)} must be a non-empty string of at most ${MAX_TAG_VALUE_BYTES} bytes (the process Name tag)`,
  );

  const tag = z.any().superRefine((t, ctx) => {
    for (const message of tagProblems(t)) ctx.addIssue({ code: "custom", message });
  });
  const tags = z
    .array(tag, {
      errorMap: () => ({ message: 'is not a list: use [{ name: "...", value: "..." }, ...]' }),
    })
    .max(MAX_TAGS, {
      message: `has more than ${MAX_TAGS} tags: at most ${MAX_TAGS} are allowed on a data item; remove some`,
    });

  const tagField = (key: "action" | "hashTag") =>
    rule<string>((v) =>
      typeof v === "string" && v !== "" && bytes(v) <= MAX_TAG_NAME_BYTES
        ? undefined
        : `${show(v)} must be a non-empty string (a tag ${key === "action" ? "value" : "name"})`,
    ).optional();

  const validation = z
    .object(
      {
        action: tagField("action"),
        hashTag: tagField("hashTag"),
        skip: booleanRule().optional(),
      },
      {
        errorMap: (_i, ctx) => ({
          message: `${show(ctx.data)} must be an object { action?, hashTag?, skip? }`,
        }),
      },
    )
    .strict("use action, hashTag or skip");

  return z
    .object({
      code,
      module: aoIdSchema(),
      scheduler: aoIdSchema(),
      authority: aoIdSchema().optional(),
      adoptProcessId: aoIdSchema().optional(),
      name,
      tags: tags.optional(),
      endpoints: endpointsSchema(),
      upgrade: upgradeStrategySchema().optional(),
      validation: validation.optional(),
      stateTransfer: booleanRule().optional(),
    })
    .superRefine((inputs, ctx) => {
      if (inputs.endpoints.network !== "mainnet") return;
      for (const { path, message } of mainnetProblems(inputs.authority, inputs.tags ?? []))
        ctx.addIssue({ code: "custom", path, message });
    });
}

/**
 * What AO mainnet asks beyond the shared rules: a pinned authority that is not the legacy messenger's
 * (unpinned, the provider reads the node's address: authority.ts), and tag names given once (aoconnect
 * folds the tags into an object, so a repeated name would silently keep only its last value; HyperBEAM
 * lowercases names).
 */
function mainnetProblems(authority: string | undefined, tags: unknown[]) {
  const problems: { path: (string | number)[]; message: string }[] = [];
  if (authority === LEGACY_AUTHORITY)
    problems.push({
      path: ["authority"],
      message: `${show(authority)} is the legacy network's messenger, not a mainnet node: pin the node's address (GET <node>/~meta@1.0/info/address)`,
    });
  const seen = new Map<string, number>();
  tags.forEach((t, i) => {
    const name = (t as Partial<Tag> | null)?.name;
    if (typeof name !== "string" || name === PREVIEW_UNKNOWN) return;
    const first = seen.get(name.toLowerCase());
    if (first === undefined) seen.set(name.toLowerCase(), i);
    else
      problems.push({
        path: ["tags", i],
        message: `name ${show(name)} repeats tags[${first}]: AO mainnet keeps one value per tag name (aoconnect keeps the last); give each name once`,
      });
  });
  return problems;
}

function valueAt(value: unknown, path: (string | number)[]): unknown {
  return path.reduce<unknown>(
    (o, k) => (o && typeof o === "object" ? (o as Record<string | number, unknown>)[k] : undefined),
    value,
  );
}

/** An unrecognized-keys issue's message says which keys are allowed; the reason names the unknown ones. */
const messageOf = (issue: Z.ZodIssue) =>
  issue.code === "unrecognized_keys"
    ? `has unknown key(s) ${issue.keys.join(", ")}: ${issue.message}`
    : issue.message;

/** Every failure for the raw (unchecked) inputs; none for a value unknown during preview. */
export function validateInputs(news: Record<string, unknown>): CheckFailure[] {
  return schemaFailures(inputsSchema(), news);
}

/** Every failure of `news` against a resource's input schema, each naming its property. */
export function schemaFailures(schema: Z.ZodTypeAny, news: Record<string, unknown>): CheckFailure[] {
  const result = schema.safeParse(news);
  if (result.success) return [];
  return result.error.issues
    .filter((issue) => valueAt(news, issue.path) !== PREVIEW_UNKNOWN)
    .map((issue) => {
      const property = propertyOf(issue.path);
      return { property, reason: `${property} ${messageOf(issue)}.` };
    });
}

/** What a provider's `check` answers: the checked inputs, or every failure. */
export function checkResultOf<T>(r: { inputs?: T; failures: CheckFailure[] }): {
  inputs?: T;
  failures?: CheckFailure[];
} {
  return r.failures.length ? { failures: r.failures } : { inputs: r.inputs! };
}

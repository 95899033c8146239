/**
 * `check` as a pure function: validation (validate.ts), then the Lua 5.3 compile (luaCheck.ts), then
 * defaults and the code hash. No network, no wallet, no files. Values not known during preview pass.
 */
import { sha256Hex } from "./hash";
import { formatLuaError, luaCheck } from "./luaCheck";
import { DEFAULT_VALIDATION, type Inputs, type Tag, type UpgradeStrategy } from "./types";
import { type CheckFailure, validateInputs } from "./validate";

/** Pulumi's marker for a value not known during preview. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** The value at a failure's property path (`endpoints.cu`, `tags[0].name`). */
export function valueAt(obj: Record<string, unknown>, property: string): unknown {
  return property
    .split(/[.[\]]/)
    .filter(Boolean)
    .reduce<unknown>(
      (o, k) => (o && typeof o === "object" ? (o as Record<string, unknown>)[k] : undefined),
      obj,
    );
}

/** Tags as a list: a record becomes name-sorted pairs (map order does not survive serialization). */
export function normalizeTags(tags: unknown): unknown {
  if (tags === undefined || tags === null) return [];
  if (Array.isArray(tags)) return tags;
  if (typeof tags === "object") {
    return Object.keys(tags)
      .sort()
      .map((name) => ({ name, value: (tags as Record<string, unknown>)[name] }));
  }
  return tags;
}

/** check: validation, then the Lua 5.3 compile, then defaults and the code hash. */
export function checkInputs(news: Record<string, unknown>): { inputs?: Inputs; failures: CheckFailure[] } {
  const raw: Record<string, unknown> = { ...news, tags: normalizeTags(news.tags) };
  const failures = validateInputs(raw).filter((f) => valueAt(raw, f.property) !== UNKNOWN);
  if (failures.length) return { failures };
  const code = raw.code as string;
  if (code !== UNKNOWN) {
    const syntax = luaCheck(code);
    if (syntax.length)
      return { failures: syntax.map((e) => ({ property: "code", reason: formatLuaError(e) })) };
  }
  const validation = (raw.validation ?? {}) as Partial<Inputs["validation"]>;
  const inputs: Inputs = {
    ...(raw as unknown as Inputs),
    codeSha256: code === UNKNOWN ? UNKNOWN : sha256Hex(code),
    tags: raw.tags as Tag[],
    upgrade: (raw.upgrade as UpgradeStrategy | undefined) ?? "replace",
    validation: { ...DEFAULT_VALIDATION, ...validation },
  };
  return { inputs, failures: [] };
}

/**
 * `check` as a pure function: validation (validate.ts), then the Lua 5.3 compile (luaCheck.ts), then
 * defaults and the code hash. No network, no wallet, no files. Values not known during preview pass.
 */
import { PREVIEW_UNKNOWN } from "./aoValues";
import { sha256Hex } from "./hash";
import { formatLuaError, luaCheck } from "./luaCheck";
import { programSha256 } from "./programHash";
import { DEFAULT_VALIDATION, type Inputs, type Tag, type UpgradeStrategy } from "./types";
import { type CheckFailure, validateInputs } from "./validate";

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
  // validateInputs already lets values unknown during preview pass.
  const failures = validateInputs(raw);
  if (failures.length) return { failures };
  const code = raw.code as string;
  if (code !== PREVIEW_UNKNOWN) {
    const syntax = luaCheck(code);
    if (syntax.length)
      return { failures: syntax.map((e) => ({ property: "code", reason: formatLuaError(e) })) };
  }
  const validation = (raw.validation ?? {}) as Partial<Inputs["validation"]>;
  const inputs: Inputs = {
    ...(raw as unknown as Inputs),
    codeSha256: code === PREVIEW_UNKNOWN ? PREVIEW_UNKNOWN : sha256Hex(code),
    programSha256: code === PREVIEW_UNKNOWN ? PREVIEW_UNKNOWN : programSha256(code),
    tags: raw.tags as Tag[],
    upgrade: (raw.upgrade as UpgradeStrategy | undefined) ?? "replace",
    stateTransfer: (raw.stateTransfer as boolean | undefined) ?? false,
    validation: { ...DEFAULT_VALIDATION, ...validation },
  };
  return { inputs, failures: [] };
}

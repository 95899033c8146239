import { sha256Hex } from "../../../providers/hash";
import { DEFAULT_VALIDATION, type Inputs } from "../../../providers/types";

/** A 43-character ID made of one character: readable in failures. */
export const ID = (c: string) => c.repeat(43);

/** Checked AoProcess inputs for network-free tests. */
export function sampleInputs(code = "return 1"): Inputs {
  return {
    code,
    codeSha256: sha256Hex(code),
    module: ID("m"),
    scheduler: ID("s"),
    name: "registry",
    tags: [{ name: "App-Name", value: "registry" }],
    endpoints: { mu: "http://127.0.0.1:1", cu: "http://127.0.0.1:2", gateway: "http://127.0.0.1:3" },
    upgrade: "replace",
    validation: DEFAULT_VALIDATION,
    stateTransfer: false,
  };
}

/** Raw AoProcess inputs, as the program gives them to `check` (nothing computed, no defaults). */
export function rawInputs(patch: Record<string, unknown> = {}): Record<string, unknown> {
  const { code, module, scheduler, name, endpoints } = sampleInputs();
  return { code, module, scheduler, name, endpoints, ...patch };
}

/** What the Lua 5.3 check adds to a Lua 5.4 attribute error (providers/luaVersionHint.ts). */
export const LUA54_HINT =
  "(`<const>` is Lua 5.4 syntax; the process runs Lua 5.3 (aos): write `local name = value` without the attribute)";

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
    endpoints: { mu: "http://mu", cu: "http://cu", gateway: "http://gw" },
    upgrade: "replace",
    validation: DEFAULT_VALIDATION,
  };
}

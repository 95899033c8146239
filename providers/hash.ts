/** The code hash: sha256 of the UTF-8 code, lowercase hex. What `Code-Sha256` reports. */
export function sha256Hex(code: string): string {
  // Required here, not at the top: keeps the provider closure free of captured module state.
  const { createHash } = require("node:crypto") as typeof import("node:crypto");
  return createHash("sha256").update(code, "utf8").digest("hex");
}

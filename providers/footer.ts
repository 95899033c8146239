/**
 * The proof of code. The Eval that deploys `code` sends `wrapWithFooter(code, proof)`:
 *
 *   local __ao_deploy_r = table.pack((function(...) <code line 1>
 *   <code lines 2..n>
 *   end)(...)) DeployedCode = { Sha256 = "<sha256 of code>", DeploymentId = "<id>" } return table.unpack(...)
 *
 * - The code runs exactly like a chunk (its own `...`, locals, `return` values), on the same line
 *   numbers as before wrapping.
 * - THEN the global `DeployedCode` is set. A runtime error in the code propagates and the footer does
 *   not run, so `DeployedCode` keeps describing the last code that loaded completely.
 *
 * Convention (any process code can opt in): the process answers the validation action (default
 * `Info`) with a tag (default `Code-Sha256`) whose value is `DeployedCode.Sha256`, e.g.
 *
 *   Handlers.add("Info", "Info", function(msg)
 *     msg.reply({ ["Code-Sha256"] = DeployedCode and DeployedCode.Sha256 or "" })
 *   end)
 *
 * Validation dry-runs that action and compares the tag with the hash it deployed.
 */
export const DEPLOYED_CODE_GLOBAL = "DeployedCode";

export const DEFAULT_VALIDATION_ACTION = "Info";
export const DEFAULT_HASH_TAG = "Code-Sha256";

export interface CodeProof {
  /** sha256 hex of the code (see hash.ts). */
  sha256: string;
  deploymentId: string;
}

const luaQuote = (s: string) => JSON.stringify(s); // JSON string escapes are valid Lua 5.3 escapes for ASCII

export function wrapWithFooter(code: string, proof: CodeProof): string {
  if (!/^[0-9a-f]{64}$/.test(proof.sha256)) throw new Error(`footer: sha256 must be 64 hex characters`);
  if (!/^[A-Za-z0-9_.:-]{1,128}$/.test(proof.deploymentId)) {
    throw new Error(
      `footer: deploymentId ${JSON.stringify(proof.deploymentId)} must be 1-128 of [A-Za-z0-9_.:-]`,
    );
  }
  return (
    `local __ao_deploy_r = table.pack((function(...) ${code}\nend)(...)) ` +
    `${DEPLOYED_CODE_GLOBAL} = { Sha256 = ${luaQuote(proof.sha256)}, DeploymentId = ${luaQuote(proof.deploymentId)} } ` +
    "return table.unpack(__ao_deploy_r, 1, __ao_deploy_r.n)"
  );
}

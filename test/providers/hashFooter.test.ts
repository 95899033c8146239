import { describe, expect, it } from "vitest";
import { wrapWithFooter } from "../../providers/footer";
import { sha256Hex } from "../../providers/hash";
import { luaCheck } from "../../providers/luaCheck";
import { newLuaState } from "./luaRun";

const proof = (code: string) => ({ sha256: sha256Hex(code), deploymentId: "dep-123" });

describe("sha256Hex", () => {
  it("is the lowercase hex sha256 of the UTF-8 code", () => {
    expect(sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(sha256Hex("é")).toBe("4a99557e4033c3539de2eb65472017cad5f9557f7a0625a09f1c3f6e2ba69c4c");
  });
});

describe("wrapWithFooter", () => {
  it("runs the code like a chunk, keeps its return values, then sets DeployedCode", () => {
    const code = "X = (X or 0) + 1\nreturn X, nil, 'three'";
    const L = newLuaState();
    expect(L.run(wrapWithFooter(code, proof(code)))).toEqual(["1", "nil", "three"]);
    expect(L.run("return DeployedCode.Sha256, DeployedCode.DeploymentId")).toEqual([
      sha256Hex(code),
      "dep-123",
    ]);
  });

  it("keeps the code's line numbers in runtime errors", () => {
    const code = "local a = 1\n\nerror('boom')";
    expect(() => newLuaState().run(wrapWithFooter(code, proof(code)))).toThrowError("bundle:3: boom");
  });

  it("does not set DeployedCode when the code fails at runtime", () => {
    const L = newLuaState();
    const good = "return 1";
    L.run(wrapWithFooter(good, proof(good)));
    const bad = "error('nope')";
    expect(() => L.run(wrapWithFooter(bad, proof(bad)))).toThrowError(/nope/);
    expect(L.run("return DeployedCode.Sha256")).toEqual([sha256Hex(good)]);
  });

  it("still compiles as Lua 5.3 and keeps syntax error lines", () => {
    expect(luaCheck(wrapWithFooter("return 1", proof("return 1")))).toEqual([]);
    expect(luaCheck(wrapWithFooter("x = 1\nx = = 2", proof("")))[0]).toMatchObject({ line: 2 });
  });

  it("refuses a deployment ID that could inject Lua", () => {
    expect(() => wrapWithFooter("", { sha256: sha256Hex(""), deploymentId: '"} os.exit() --' })).toThrowError(
      /deploymentId/,
    );
  });
});

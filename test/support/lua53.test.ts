import { describe, expect, it } from "vitest";
import { newLua53 } from "./lua53";

describe("lua53 (the tests' real Lua 5.3)", () => {
  it("is Lua 5.3 with 64-bit integers", () => {
    const L = newLua53();
    expect(L.run("return _VERSION .. ' ' .. math.maxinteger .. ' ' .. (1 << 40)")).toBe(
      "Lua 5.3 9223372036854775807 1099511627776",
    );
    L.close();
  });

  it("passes text of any length byte for byte, a character across the pieces' boundary included", () => {
    const L = newLua53();
    for (const before of [16_383, 16_384, 16_385]) {
      const text = `${"a".repeat(before)}😀${"é".repeat(100_000)}`;
      L.setString("Text", text);
      expect(L.run("return #Text")).toBe(String(Buffer.byteLength(text)));
      expect(L.run(`return Text:sub(${before + 1}, ${before + 4})`)).toBe("😀");
    }
    L.close();
  });

  it("throws the Lua error, with the chunk's name", () => {
    const L = newLua53();
    expect(() => L.run("\nerror('boom')", "mine")).toThrowError("mine:2: boom");
    expect(() => L.run("return = 1", "broken")).toThrowError(/^broken:1: unexpected symbol near '='/);
    L.close();
  });
});

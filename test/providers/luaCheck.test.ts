import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { bundleLua } from "../../providers/bundle";
import { assertLuaCompiles, luaCheck } from "../../providers/luaCheck";

function bundle(files: Record<string, string>) {
  const root = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "luacheck-")), "proc");
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), text);
  }
  return bundleLua(path.join(root, "main.lua")).code;
}

describe("luaCheck", () => {
  it("accepts valid Lua 5.3 (integer division, bit operators, goto)", () => {
    expect(luaCheck("local a = 7 // 2 | 1\n::top::\nreturn a")).toEqual([]);
  });

  it("rejects Lua 5.4-only syntax (<const>), as aos (Lua 5.3) would", () => {
    expect(luaCheck("\nlocal x <const> = 1", "p.lua")).toEqual([
      {
        file: "p.lua",
        line: 2,
        message: "unexpected symbol near '<'",
        hint: "`<const>` is Lua 5.4 syntax; the process runs Lua 5.3 (aos): write `local name = value` without the attribute",
      },
    ]);
  });

  it("reports an error in a required module with the module's own file and line", () => {
    const code = bundle({
      "main.lua": 'local m = require("lib.m")\nreturn m',
      "lib/m.lua": "local M = {}\n\nfunction M.f(\n  return 1\nend\nreturn M",
    });
    const errors = luaCheck(code);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ file: "proc/lib/m.lua", line: 4 });
  });

  it("reports an error in the entry with the entry's file and line, when it has modules", () => {
    const code = bundle({
      "main.lua": 'local m = require("m")\n\n\nlocal = 3\nreturn m',
      "m.lua": "return 1",
    });
    expect(luaCheck(code)).toEqual([{ file: "proc/main.lua", line: 4, message: "<name> expected near '='" }]);
  });

  it("reports one error per broken file", () => {
    const code = bundle({ "main.lua": 'require("m")\nx = = 1', "m.lua": "return {" });
    expect(luaCheck(code).map((e) => `${e.file}:${e.line}`)).toEqual(["proc/main.lua:2", "proc/m.lua:1"]);
  });

  it("throws with every error as file:line: message", () => {
    const code = bundle({ "main.lua": "local x <close> = nil" });
    expect(() => assertLuaCompiles(code)).toThrowError(/proc\/main\.lua:1: unexpected symbol near '<'/);
  });
});

import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { bundleLua } from "../../providers/bundle";
import { luaCheck } from "../../providers/luaCheck";

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

  it("catches an error in bundled code, as check sees it (a bundle no bundler checked)", () => {
    const code = bundle({ "main.lua": 'local m = require("m")\nreturn m', "m.lua": "return 1" });
    expect(luaCheck(code)).toEqual([]);
    const broken = code.replace("return 1", "return = 1");
    expect(luaCheck(broken, "registry")).toEqual([
      { file: "registry", line: expect.any(Number), message: "unexpected symbol near '='" },
    ]);
  });
});

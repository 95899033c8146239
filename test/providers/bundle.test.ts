import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { bundleLua, mapBundleLine, readBundleManifest } from "../../providers/bundle";
import { newLuaState } from "./luaRun";

const roots: string[] = [];
/** Writes files under a fresh temporary `proj/` directory and returns its path. */
function project(files: Record<string, string>): string {
  const root = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "bundle-")), "proj");
  roots.push(path.dirname(root));
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), text);
  }
  return root;
}
afterAll(() => {
  for (const r of roots) fs.rmSync(r, { recursive: true, force: true });
});

describe("bundleLua", () => {
  it("emits a file without requires as it is, plus the segment manifest", () => {
    const root = project({ "main.lua": "X = 1\nreturn X" });
    const b = bundleLua(path.join(root, "main.lua"));
    expect(b.code.startsWith("X = 1\nreturn X\n-- ao-bundle: ")).toBe(true);
    expect(b.modules).toEqual([]);
    expect(newLuaState().run(b.code)).toEqual(["1"]);
  });

  it("resolves nested requires in every quoting style, each module once, in depth-first order", () => {
    const root = project({
      "main.lua": [
        'local a = require("lib.a")',
        "local b = require 'b'",
        "local c = require [[lib.c]]",
        'local a2 = require("lib.a")',
        'return a.name .. "," .. b.name .. "," .. c.name .. "," .. tostring(a == a2)',
      ].join("\n"),
      "lib/a.lua": 'local c = require("lib.c")\nreturn { name = "a" .. c.name }',
      "b/init.lua": 'return { name = "b" }',
      "lib/c.lua": 'return { name = "c" }',
    });
    const b = bundleLua(path.join(root, "main.lua"));
    expect(b.modules).toEqual(["lib.c", "lib.a", "b"]);
    expect(b.segments.map((s) => s.file)).toEqual([
      "proj/main.lua",
      "proj/lib/c.lua",
      "proj/lib/a.lua",
      "proj/b/init.lua",
    ]);
    expect(newLuaState().run(b.code)).toEqual(["ac,b,c,true"]);
  });

  it("ignores requires in comments and strings, and leaves dynamic requires to the runtime", () => {
    const root = project({
      "main.lua": [
        '-- require("nope.comment")',
        '--[[ require("nope.block") ]]',
        "local s = \"require('nope.string')\"",
        'local t = [==[ require("nope.long") ]==]',
        'local name = "x"; local ok = pcall(require, name)',
        "local f = function() return require(name) end",
        "return s",
      ].join("\n"),
    });
    expect(bundleLua(path.join(root, "main.lua")).modules).toEqual([]);
  });

  it("leaves aos built-ins (json, .utils, .bint) to the runtime when no file provides them", () => {
    const root = project({
      "main.lua": 'local json = require("json")\nlocal u = require(".utils")\nreturn 1',
    });
    const b = bundleLua(path.join(root, "main.lua"));
    expect(b.modules).toEqual([]);
    expect(b.external).toEqual([".utils", "json"]);
  });

  it("names the missing module, the requiring file and line, and the paths tried", () => {
    const root = project({
      "main.lua": 'local a = require("lib.a")\nreturn a',
      "lib/a.lua": '\n\nreturn require("lib.gone")',
    });
    expect(() => bundleLua(path.join(root, "main.lua"))).toThrowError(
      /Lua module "lib\.gone" not found: required by proj\/lib\/a\.lua:3; tried proj\/lib\/gone\.lua, proj\/lib\/gone\/init\.lua/,
    );
    expect(() => bundleLua(path.join(root, "main.lua"))).toThrowError(
      expect.objectContaining({ name: "BundleError" }),
    );
  });

  it("reports a require cycle that recurses at load time, naming the chain", () => {
    const root = project({
      "main.lua": 'return require("a")',
      "a.lua": 'local b = require("b")\nreturn {}',
      "b.lua": '\nlocal a = require("a")\nreturn {}',
    });
    expect(() => bundleLua(path.join(root, "main.lua"))).toThrowError(
      'Lua require cycle at load time: a -> b -> a (proj/a.lua:1 requires "b", proj/b.lua:2 requires "a")',
    );
  });

  it("accepts a cycle through a require inside a function body (legal in Lua) and runs it", () => {
    const root = project({
      "main.lua": 'local a = require("a")\nreturn a.viaB()',
      "a.lua": 'local b = require("b")\nreturn { name = "A", viaB = function() return b.peer() end }',
      "b.lua": 'return { peer = function() return require("a").name end }',
    });
    const b = bundleLua(path.join(root, "main.lua"));
    expect(b.modules).toEqual(["b", "a"]);
    expect(newLuaState().run(b.code)).toEqual(["A"]);
  });

  it("re-runs the new module code when a second bundle is loaded into the same Lua state", () => {
    const root = project({ "main.lua": 'return require("m").v', "m.lua": "return { v = 1 }" });
    const first = bundleLua(path.join(root, "main.lua")).code;
    fs.writeFileSync(path.join(root, "m.lua"), "return { v = 2 }");
    const second = bundleLua(path.join(root, "main.lua")).code;
    const L = newLuaState();
    expect(L.run(first)).toEqual(["1"]);
    expect(L.run(second)).toEqual(["2"]);
  });

  it("keeps the entry's line numbers and maps a module's bundle line back to its file", () => {
    const root = project({
      "main.lua": 'local m = require("m")\n\nlocal x = m.f()\nerror("entry line 4")',
      "m.lua": "local M = {}\nfunction M.f()\n  return 1\nend\nreturn M",
    });
    const b = bundleLua(path.join(root, "main.lua"));
    expect(() => newLuaState().run(b.code)).toThrowError("bundle:4: entry line 4");
    const manifest = readBundleManifest(b.code)!;
    const m = manifest.segments.find((s) => s.module === "m")!;
    expect(b.code.split("\n")[m.line - 1 + 2]).toBe("  return 1");
    expect(mapBundleLine(manifest.segments, m.line + 2)).toEqual({ file: "proj/m.lua", line: 3 });
  });

  it("is a pure function of the files: the same code from another working directory or path form", () => {
    const root = project({ "main.lua": 'return require("m")', "m.lua": "return 1" });
    const abs = bundleLua(path.join(root, "main.lua")).code;
    const cwd = process.cwd();
    try {
      process.chdir(path.dirname(root));
      expect(bundleLua("proj/main.lua").code).toBe(abs);
    } finally {
      process.chdir(cwd);
    }
  });
});

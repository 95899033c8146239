import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { bundleLua } from "../../providers/bundle";
import { sha256Hex } from "../../providers/hash";
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

/**
 * A Lua state with aolite's loading rules (perplex-labs/aolite lua/aolite/factories/process.lua): a
 * `package` with `loaded` only, and a `require` that reads `package.loaded`, then loads from the path
 * (here a table of sources holding one runtime module, `json`), counting its loads in `Runtime.loads`.
 */
function aoliteLikeState() {
  const L = newLuaState();
  L.run(`
    local path = { json = "return { name = 'runtime json' }" }
    Runtime = { loads = 0 }
    local loaded = {}
    package = { loaded = loaded }
    require = function(name)
      if loaded[name] then return loaded[name] end
      local source = path[name]
      if not source then error("module '" .. name .. "' is neither in package.loaded nor on the path") end
      Runtime.loads = Runtime.loads + 1
      loaded[name] = assert(load(source, "=" .. name))()
      return loaded[name]
    end`);
  return L;
}

describe("bundleLua", () => {
  it("emits a file without requires as it is, and nothing else", () => {
    const root = project({ "main.lua": "X = 1\nreturn X" });
    const b = bundleLua(path.join(root, "main.lua"));
    expect(b.code).toBe("X = 1\nreturn X");
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
    expect(b.files).toEqual(["proj/main.lua", "proj/lib/c.lua", "proj/lib/a.lua", "proj/b/init.lua"]);
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
        'local r = require; local obj = { require = r }; obj.require("nope.member"); obj:require("nope.method")',
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
    for (const L of [newLuaState(), aoliteLikeState()]) {
      expect(L.run(first)).toEqual(["1"]);
      expect(L.run(second)).toEqual(["2"]);
      expect(L.run("return package.loaded.m.v")).toEqual(["2"]);
    }
  });

  it("replaces the modules of a bundle in the earlier layout (package.preload) loaded before it", () => {
    const earlier = [
      'local __ao_bundle_entry = function(...) return require("m").v',
      "end",
      'package.loaded["m"] = nil package.preload["m"] = function(...) return { v = "old" }',
      "end",
      "return __ao_bundle_entry(...)",
    ].join("\n");
    const root = project({ "main.lua": 'return require("m").v', "m.lua": 'return { v = "new" }' });
    const L = newLuaState();
    expect(L.run(earlier)).toEqual(["old"]);
    expect(L.run(bundleLua(path.join(root, "main.lua")).code)).toEqual(["new"]);
    expect(L.run('return require("m").v')).toEqual(["new"]);
  });

  describe("loads wherever require works", () => {
    const root = () =>
      project({
        "main.lua": [
          'local a = require("lib.a")',
          'local json = require("json")',
          'return a.name .. "," .. json.name .. "," .. tostring(require("lib.a") == a)',
        ].join("\n"),
        "lib/a.lua": 'local c = require("lib.c")\nreturn { name = "a" .. c.name }',
        "lib/c.lua": 'return { name = "c" }',
      });

    it("where require reads package.loaded and then the path, and package has no preload (aolite)", () => {
      const L = aoliteLikeState();
      expect(L.run("return tostring(package.preload) .. ' ' .. tostring(package.searchers)")).toEqual([
        "nil nil",
      ]);
      expect(L.run(bundleLua(path.join(root(), "main.lua")).code)).toEqual(["ac,runtime json,true"]);
      // Bundled modules are in package.loaded, where the runtime's require finds them too.
      expect(L.run('return require("lib.c").name .. " " .. Runtime.loads')).toEqual(["c 1"]);
    });

    it("where there is no package table at all", () => {
      const L = aoliteLikeState();
      L.run("package = nil");
      expect(L.run(bundleLua(path.join(root(), "main.lua")).code)).toEqual(["ac,runtime json,true"]);
    });

    it("with require's rules: each module once, with its name, and true for a module that returns nothing", () => {
      const project2 = project({
        "main.lua": [
          'local first = require("counted")',
          'local again = require("counted")',
          'local silent = require("silent")',
          'return Runs .. " " .. tostring(first == again) .. " " .. first.name .. " " .. tostring(silent)',
        ].join("\n"),
        "counted.lua": "Runs = (Runs or 0) + 1\nreturn { name = ... }",
        "silent.lua": "Silent = true",
      });
      for (const L of [newLuaState(), aoliteLikeState()]) {
        expect(L.run(bundleLua(path.join(project2, "main.lua")).code)).toEqual(["1 true counted true"]);
      }
    });
  });

  it("keeps the entry's line numbers, and ships no manifest comment to AO", () => {
    const root = project({
      "main.lua": 'local m = require("m")\n\nlocal x = m.f()\nerror("entry line 4")',
      "m.lua": "local M = {}\nfunction M.f()\n  return 1\nend\nreturn M",
    });
    const b = bundleLua(path.join(root, "main.lua"));
    expect(() => newLuaState().run(b.code)).toThrowError("bundle:4: entry line 4");
    expect(b.code).not.toContain("--");
    expect(b.code.endsWith("return __ao_bundle_entry(...)")).toBe(true);
  });

  it("compiles each file as it reads it: a syntax error names that file and its line", () => {
    const root = project({
      "main.lua": 'local a = require("a")\nlocal b = require("lib.b")\nreturn a',
      "a.lua": "local A = {}\n\nfunction A.f(\n  return 1\nend\nreturn A",
      "lib/b.lua": "local x <const> = 1\nreturn x",
    });
    let error: Error | undefined;
    try {
      bundleLua(path.join(root, "main.lua"));
    } catch (e) {
      error = e as Error;
    }
    expect(error?.name).toBe("LuaSyntaxCheckError");
    expect(error?.message).toContain("proj/a.lua:4: <name> or '...' expected near 'return'");
    expect(error?.message).toContain("proj/lib/b.lua:1: unexpected symbol near '<'");
    const entryOnly = project({ "main.lua": "\n\nx = = 1" });
    expect(() => bundleLua(path.join(entryOnly, "main.lua"))).toThrowError(/proj\/main\.lua:3: /);
  });

  it("gives the registry the same code hash on every run", () => {
    const entry = path.join(__dirname, "..", "..", "ao-process", "registry.lua");
    const first = bundleLua(entry);
    expect(first.modules.length).toBeGreaterThan(0);
    expect(sha256Hex(bundleLua(entry).code)).toBe(sha256Hex(first.code));
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

/**
 * The ingress guard (registry/ingress.lua): on aos 2.0, the module every stack deploys, fully active and
 * reported so by Info; elsewhere it installs what it can, never breaks the load, and says why not.
 * The shapes of aos it meets are stand-ins written here (real Lua 5.3); the real aos module runs below.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { wrapWithFooter } from "../../providers/footer";
import { startAosInstance } from "../../test/support/aosInstance";
import { type Lua53, newLua53 } from "../../test/support/lua53";
import { registryCode } from "./support/registry";

const INGRESS = readFileSync(path.join(__dirname, "..", "registry", "ingress.lua"), "utf8");

/**
 * A Lua state with stand-ins for what the guard wraps, shaped as aos 2.0 has them: `.process` with
 * `handle` (it decodes JSON-typed Data with `require("json").decode`, as aos does, and records
 * `Ingress.status()` in `Seen` while it runs), `json` with `decode`, `.utils` with `normalize`.
 * `patch` then changes them (Lua run before the guard loads); `Ingress` is the guard's module.
 */
function guardState(patch = ""): Lua53 {
  const L = newLua53();
  L.run(`
    Calls = 0
    Aos = {
      [".process"] = { handle = function(msg, env)
        Calls = Calls + 1
        Seen = Ingress.status()
        if msg.Tags[1] and msg.Tags[1].value == "application/json" then
          msg.Data = require("json").decode(msg.Data)
        end
        return msg.Data
      end },
      json = { decode = function(s) return { decoded = s } end },
      [".utils"] = { normalize = function(name) return name end },
    }
    Original = { handle = Aos[".process"].handle, decode = Aos.json.decode }
    require = function(name)
      if Aos[name] == nil then error("module '" .. name .. "' not found", 2) end
      return Aos[name]
    end
    ${patch}
    local function field(t, k) if type(t) == "table" then return t[k] end end
    Before = { handle = field(Aos[".process"], "handle"), decode = field(Aos.json, "decode") }`);
  L.setString("IngressSource", INGRESS);
  L.run("Ingress = assert(load(IngressSource, '=ingress'))() Ingress.install()");
  return L;
}
const TYPED = "{ Tags = { { name = 'Content-Type', value = 'application/json' } }, Data = '[1' }";
const UNTYPED = "{ Tags = {}, Data = '[1' }";
/** `Ingress.status()` (or `Seen`, the status inside handle) as JSON-ish text for assertions. */
const status = (L: Lua53, which = "Ingress.status()") =>
  JSON.parse(
    L.run(`local s = ${which} return string.format('{"active":%s,"jsonGuard":%s,"dropsUnhandled":%s,"reason":%s}',
      s.active, s.jsonGuard, s.dropsUnhandled, s.reason and string.format("%q", s.reason) or "null")`),
  );

describe("where aos is shaped as aos 2.0", () => {
  it("hands JSON-typed Data to the handlers as sent, and leaves untyped Data to aos's decoder", () => {
    const L = guardState();
    expect(L.run(`return Aos[".process"].handle(${TYPED}, {})`)).toBe("[1");
    expect(L.run(`return Aos[".process"].handle(${UNTYPED}, {})`)).toBe("[1");
    expect(L.run("return Aos.json.decode('x').decoded")).toBe("x");
    // aos's _default handler, built from .default, now drops the message: it returns nothing.
    expect(L.run("return #Inbox .. ' ' .. select('#', package.loaded['.default']()({}))")).toBe("0 0");
    L.close();
  });

  it("reports itself active while aos hands it the message, and says so when aos did not", () => {
    const L = guardState();
    L.run(`Aos[".process"].handle(${UNTYPED}, {})`);
    expect(status(L, "Seen")).toEqual({ active: true, jsonGuard: true, dropsUnhandled: true, reason: null });
    expect(status(L)).toEqual({
      active: false,
      jsonGuard: false,
      dropsUnhandled: true,
      reason:
        "aos did not call the registry's process.handle for this message: " +
        "aos decodes Data tagged Content-Type: application/json itself",
    });
    L.close();
  });

  it("loaded again, wraps aos's own functions, not the previous wrappers", () => {
    const L = guardState();
    L.run("Ingress = assert(load(IngressSource, '=ingress'))() Ingress.install()");
    L.run(`Aos[".process"].handle(${TYPED}, {})`);
    expect(L.run("return Calls")).toBe("1");
    expect(
      L.run("return RegistryIngress.handle == Original.handle and RegistryIngress.decode == Original.decode"),
    ).toBe("true");
    L.close();
  });

  it("says when aos's .default was replaced after it loaded", () => {
    const L = guardState();
    L.run("package.loaded['.default'] = function() return function() end end");
    L.run(`Aos[".process"].handle(${UNTYPED}, {})`);
    expect(status(L, "Seen")).toMatchObject({ active: false, jsonGuard: true, dropsUnhandled: false });
    expect(status(L, "Seen").reason).toBe(
      `package.loaded[".default"] was replaced after the registry loaded: aos keeps messages no handler takes in Inbox`,
    );
    L.close();
  });
});

describe("where aos is not shaped as it expects, it loads, installs what it can and says why not", () => {
  const cases: [string, string, string][] = [
    [
      ".process a function (aolite)",
      `Aos[".process"] = function() end`,
      "aos's .process is a function here, not a table with handle",
    ],
    [".process a table without handle", `Aos[".process"] = {}`, "aos's .process has no function handle here"],
    [".process missing", `Aos[".process"] = nil`, `require(".process") failed (module '.process' not found)`],
    [
      "json a function",
      "Aos.json = function() end",
      "aos's json is a function here, not a table with decode",
    ],
    ["json without decode", "Aos.json = {}", "aos's json has no function decode here"],
    ["json missing", "Aos.json = nil", `require("json") failed (module 'json' not found)`],
    [
      ".utils a string",
      `Aos[".utils"] = "utils"`,
      "aos's .utils is a string here, not a table with normalize",
    ],
    [".utils without normalize", `Aos[".utils"] = {}`, "aos's .utils has no function normalize here"],
    [".utils missing", `Aos[".utils"] = nil`, `require(".utils") failed (module '.utils' not found)`],
  ];
  for (const [what, patch, why] of cases) {
    it(`${what}: the JSON guard is off, aos's functions untouched, unhandled messages still dropped`, () => {
      const L = guardState(patch);
      expect(status(L)).toEqual({
        active: false,
        jsonGuard: false,
        dropsUnhandled: true,
        reason: `${why}: aos decodes Data tagged Content-Type: application/json itself`,
      });
      const untouched = `local function field(t, k) if type(t) == "table" then return t[k] end end
        return tostring(field(Aos[".process"], "handle") == Before.handle and field(Aos.json, "decode") == Before.decode)`;
      expect(L.run(untouched)).toBe("true");
      L.close();
    });
  }

  it("without package.loaded, keeps aos's Inbox but still guards JSON", () => {
    const L = guardState("package = nil");
    expect(L.run(`return Aos[".process"].handle(${TYPED}, {})`)).toBe("[1");
    expect(status(L, "Seen")).toEqual({
      active: false,
      jsonGuard: true,
      dropsUnhandled: false,
      reason:
        "package.loaded is not a table here, so aos's .default cannot be replaced: " +
        "aos keeps messages no handler takes in Inbox",
    });
    L.close();
  });
});

describe("on aos 2.0, the module every stack deploys", () => {
  let p: Awaited<ReturnType<typeof startAosInstance>>;
  beforeAll(async () => {
    p = await startAosInstance("registry-ingress");
    const { code, sha256 } = registryCode();
    await p.load(wrapWithFooter(code, { sha256, deploymentId: "ingress-1" }));
    const open = await p.evaluate(p.msg([{ name: "Action", value: "State-Open" }], "{}"));
    expect(open.Error).toBeFalsy();
  }, 120_000);

  const info = async (dry: boolean, tags: { name: string; value: string }[] = []) => {
    const m = p.msg([{ name: "Action", value: "Info" }, ...tags], "{}", "A".repeat(43));
    const r = dry ? await p.vm.dryRun(m, p.env) : await p.evaluate(m);
    expect(r.Error).toBeFalsy();
    return JSON.parse(r.Messages[0]!.Data as string);
  };

  it("is fully active, in a message and in a dry-run, with JSON-typed Data too", async () => {
    const active = { active: true, jsonGuard: true, dropsUnhandled: true, reason: null };
    expect((await info(false)).ingress).toEqual(active);
    expect((await info(true)).ingress).toEqual(active);
    const typed = await info(false, [{ name: "Content-Type", value: "application/json" }]);
    expect(typed.ok).toBe(true);
    expect(typed.ingress).toEqual(active);
  });
});

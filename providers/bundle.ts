/**
 * Bundles a Lua entry file and every module it `require`s into one chunk for an aos `Eval`,
 * as aos `.load` does, but deterministically and naming a missing module clearly.
 *
 * A pure function of the files: the output depends only on their contents and on paths relative to
 * the entry's directory (never on the working directory), so the code hash is stable across machines.
 *
 * Each file is compiled (Lua 5.3, luaCheck.ts) where it is read, so a syntax error is reported as
 * `file:line: message` in that file, and its `require`s are read from a real parse tree (luaRequires.ts).
 *
 * Layout (only when there are modules; a file without requires is emitted as it is):
 *
 *   <loader> local __ao_bundle_entry = function(...) <entry line 1>   <- bundle line 1
 *   <entry lines 2..n>                                               <- same line numbers as the file
 *   end
 *   __ao_bundle_loaded["a.b"] = nil __ao_bundle_modules["a.b"] = function(...) <a/b.lua line 1>
 *   <a/b.lua lines 2..m>
 *   end
 *   return __ao_bundle_entry(...)
 *
 * - `<loader>` declares the bundle's own `require` as a local of the chunk, so that every `require` in
 *   the bundled files (all of them lexically inside it) resolves a bundled module itself and leaves any
 *   other name to the runtime's `require` (`_ENV.require`, looked up when called). It needs nothing of
 *   `package` but `package.loaded`, and not even that: so the bundle loads wherever `require` works,
 *   in aos 2.0 as in a sandbox whose `package` has no `preload` or `searchers` (aolite's processes,
 *   perplex-labs/aolite lua/aolite/factories/process.lua, where `require` reads `package.loaded` and then
 *   the path). It keeps `require`'s rules (Lua 5.3 manual, 6.3): a module runs once, on its first
 *   `require`, with its name as argument; its value (or `true` when it returns nothing) is stored in
 *   `package.loaded[name]` and returned by every later `require`. Without a `package.loaded` table the
 *   bundle keeps its own.
 * - `__ao_bundle_loaded[name] = nil` (that is, `package.loaded[name] = nil`) means that Eval-ing a new
 *   bundle into a process that already loaded an older one, in this layout or in the earlier one that
 *   registered modules in `package.preload`, re-runs the new module code on `require`.
 * - Modules are emitted once each, in depth-first order of first `require` (deterministic).
 * - Only string-literal requires are resolved. A dynamic require (`require(name)`) is left to the
 *   runtime, as are modules the runtime provides (aos built-ins such as `json`, `.utils`, `.bint`)
 *   when no file of that name exists next to the entry.
 * - A require cycle that recurses while loading (both requires at the top level of their files) is an
 *   error naming the chain; a cycle through a require inside a function body is legal Lua and kept.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { namedError } from "./errors";
import { type LuaSyntaxError, luaCheck, luaSyntaxCheckError } from "./luaCheck";
import { findRequires } from "./luaRequires";

export interface Bundle {
  code: string;
  /** Bundled module names, in emission order. */
  modules: string[];
  /** Required modules left to the runtime (aos built-ins), sorted. */
  external: string[];
  /** The files bundled (labels: entry directory name and relative path), in emission order, entry first. */
  files: string[];
}

export interface BundleOptions {
  /** Modules the runtime provides; used only when no file resolves. Defaults to aos built-ins. */
  builtins?: (name: string) => boolean;
}

const AOS_BUILTINS = new Set(["json", "ao", "bint", "base64", "crypto", "utils", "handlers", "weavedrive"]);
/** aos names its own modules with a leading dot (`.utils`, `.bint`, `.base64`, ...). */
export const isAosBuiltin = (name: string) => name.startsWith(".") || AOS_BUILTINS.has(name);

/**
 * The bundle's `require` (see the layout above), on line 1 so that the entry keeps its line numbers.
 * Inside `function(name) ... end` assigned to `local require`, the name `require` is not yet the local:
 * the runtime's is reached as `_ENV.require`, read at each call (a runtime may replace it later).
 */
const LOADER =
  "local __ao_bundle_modules, __ao_bundle_loaded = {}, " +
  'type(package) == "table" and type(package.loaded) == "table" and package.loaded or {} ' +
  "local require = function(name) " +
  "local value = __ao_bundle_loaded[name] if value then return value end " +
  "local loader = __ao_bundle_modules[name] if not loader then return _ENV.require(name) end " +
  "value = loader(name) if value ~= nil then __ao_bundle_loaded[name] = value end " +
  "if __ao_bundle_loaded[name] == nil then __ao_bundle_loaded[name] = true end " +
  "return __ao_bundle_loaded[name] end ";
export const ENTRY_HEADER = `${LOADER}local __ao_bundle_entry = function(...) `;
export const moduleHeader = (name: string) =>
  `__ao_bundle_loaded[${luaString(name)}] = nil __ao_bundle_modules[${luaString(name)}] = function(...) `;

/** Bundling failures (missing module, load-time cycle, unreadable entry): name "BundleError". */
export const bundleError = (message: string) => namedError("BundleError", message);

function luaString(s: string): string {
  return JSON.stringify(s); // module names are plain ASCII; JSON escapes are valid Lua escapes
}

const toPosix = (p: string) => p.split(path.sep).join("/");

interface ModuleInfo {
  name: string;
  label: string;
  source: string;
  /** Static requires of this file, in source order. */
  requires: { name: string; line: number; atLoadTime: boolean }[];
}

export function bundleLua(entryFile: string, options: BundleOptions = {}): Bundle {
  const builtins = options.builtins ?? isAosBuiltin;
  const entryAbs = path.resolve(entryFile);
  const root = path.dirname(entryAbs);
  const rootName = path.basename(root);
  const label = (abs: string) => toPosix(path.join(rootName, path.relative(root, abs)));

  const read = (abs: string) => fs.readFileSync(abs, "utf8");
  let entrySource: string;
  try {
    entrySource = read(entryAbs);
  } catch (e) {
    throw bundleError(`cannot read the Lua entry file ${entryFile}: ${(e as Error).message}`);
  }

  const modules = new Map<string, ModuleInfo>(); // by module name
  const external = new Set<string>();

  // Every file is compiled as it is read; a broken file is reported (one error each) and not scanned.
  const syntaxErrors: LuaSyntaxError[] = [];
  const scan = (source: string, file: string) => {
    const errors = luaCheck(source, file);
    if (errors.length) {
      syntaxErrors.push(...errors);
      return [];
    }
    return findRequires(source).flatMap((r) =>
      r.name === undefined ? [] : [{ name: r.name, line: r.line, atLoadTime: r.atLoadTime }],
    );
  };

  const candidates = (name: string) => {
    const rel = name.split(".").join(path.sep);
    return [path.join(root, `${rel}.lua`), path.join(root, rel, "init.lua")];
  };

  const resolve = (name: string, fromLabel: string, line: number): string | undefined => {
    const tried = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(name) ? candidates(name) : [];
    const found = tried.find((p) => fs.existsSync(p) && fs.statSync(p).isFile());
    if (found) return found;
    if (builtins(name)) {
      external.add(name);
      return undefined;
    }
    const paths = tried.length ? tried.map(label).join(", ") : "(not a file module name)";
    throw bundleError(
      `Lua module "${name}" not found: required by ${fromLabel}:${line}; tried ${paths}. ` +
        `Create the file, fix the name, or (for a module the runtime provides) declare it a builtin.`,
    );
  };

  const entry: ModuleInfo = {
    name: "",
    label: label(entryAbs),
    source: entrySource,
    requires: scan(entrySource, label(entryAbs)),
  };

  const load = (req: { name: string; line: number }, from: ModuleInfo): ModuleInfo | undefined => {
    let info = modules.get(req.name);
    if (!info) {
      const abs = resolve(req.name, from.label, req.line);
      if (!abs) return undefined;
      const source = read(abs);
      info = { name: req.name, label: label(abs), source, requires: scan(source, label(abs)) };
      modules.set(req.name, info);
    }
    return info;
  };

  // Emission order: depth-first post-order of first requires (deterministic). Any cycle is skipped here.
  const order: string[] = [];
  const seen = new Set<string>();
  const visit = (mod: ModuleInfo) => {
    for (const req of mod.requires) {
      const info = load(req, mod);
      if (!info || seen.has(info.name)) continue;
      seen.add(info.name);
      visit(info);
      order.push(info.name);
    }
  };
  visit(entry);
  if (syntaxErrors.length) throw luaSyntaxCheckError(syntaxErrors);

  // Cycles that recurse while loading: only requires at the top level of a file (load-time edges).
  const byName = (name: string) => (name === "" ? entry : modules.get(name));
  const state = new Map<string, "active" | "done">();
  const stack: { mod: ModuleInfo; line: number }[] = [];
  const check = (mod: ModuleInfo) => {
    state.set(mod.name, "active");
    for (const req of mod.requires) {
      if (!req.atLoadTime) continue;
      const next = byName(req.name);
      if (!next || next === entry) continue;
      stack.push({ mod, line: req.line });
      if (state.get(next.name) === "active") {
        const from = stack.findIndex((s) => s.mod.name === next.name);
        const edges = stack.slice(from);
        const names = [...edges.map((e) => e.mod.name), next.name];
        const where = edges.map((e, k) => `${e.mod.label}:${e.line} requires "${names[k + 1]}"`).join(", ");
        throw bundleError(
          `Lua require cycle at load time: ${names.join(" -> ")} (${where}). ` +
            "Lua would recurse until the stack overflows; move one of these requires into the function that uses it.",
        );
      }
      if (state.get(next.name) !== "done") check(next);
      stack.pop();
    }
    state.set(mod.name, "done");
  };
  check(entry);
  for (const name of order) if (!state.has(name)) check(modules.get(name)!);

  if (order.length === 0)
    return { code: entrySource, modules: [], external: [...external].sort(), files: [entry.label] };
  const parts = [`${ENTRY_HEADER}${entrySource}\nend\n`];
  for (const name of order) parts.push(`${moduleHeader(name)}${modules.get(name)!.source}\nend\n`);
  parts.push("return __ao_bundle_entry(...)");
  const files = [entry.label, ...order.map((name) => modules.get(name)!.label)];
  return { code: parts.join(""), modules: order, external: [...external].sort(), files };
}

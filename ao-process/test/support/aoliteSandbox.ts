/**
 * A process with aolite's loading rules (aoliteSandbox.lua says which, read from aolite's source) on
 * real Lua 5.3 (test/support/lua53.ts), running aos's own Lua from the module the local network runs.
 * What a user of aolite meets, without aolite.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { aosSources } from "../../../devnet/aosSources";
import { type Lua53, newLua53 } from "../../../test/support/lua53";

type Tag = { name: string; value: string };

export interface SandboxReply {
  Target?: string;
  Tags: Tag[];
  Data?: string;
}

export interface AoliteLikeProcess {
  /** Runs code in the process's environment, as aolite's spawn does with `On-Boot = Data`. */
  boot(code: string): void;
  /** Hands one message to aos's `process.handle`; returns its replies. */
  send(from: string, tags: Tag[], data?: string): SandboxReply[];
  /** An expression's value in the process's environment, as `tostring` gives it. */
  eval(expression: string): string;
  close(): void;
}

const HARNESS = readFileSync(path.join(__dirname, "aoliteSandbox.lua"), "utf8");

export function aoliteLikeProcess(id: string, owner: string): AoliteLikeProcess {
  const lua: Lua53 = newLua53();
  lua.run("AosSources = {}");
  for (const [name, source] of Object.entries(aosSources())) {
    lua.setString("__source", source);
    lua.run(`AosSources[${JSON.stringify(name)}] = __source __source = nil`);
  }
  lua.run(`Sandbox = (function() ${HARNESS}\nend)()`, "aoliteSandbox.lua");
  lua.run(`P = Sandbox.new(${JSON.stringify(id)}, ${JSON.stringify(owner)})`);
  let nonce = 0;
  return {
    boot(code) {
      lua.setString("__code", code);
      lua.run("P.boot(__code) __code = nil", "boot");
    },
    send(from, tags, data = "") {
      nonce++;
      const msg = {
        Id: `message-${nonce}`.padEnd(43, "x"),
        From: from,
        Owner: from,
        Target: id,
        Tags: tags,
        Data: data,
        Timestamp: 1_750_000_000_000 + nonce,
        "Block-Height": 1_500_000,
        Module: "aolite-like",
      };
      lua.setString("__msg", JSON.stringify(msg));
      const out = JSON.parse(lua.run("local out = P.handle(__msg) __msg = nil return out", "handle")) as {
        Messages: SandboxReply[];
        Error?: unknown;
      };
      if (out.Error) throw new Error(`the process failed: ${String(out.Error)}`);
      return out.Messages;
    },
    eval: (expression) => lua.run(`return P.eval(${JSON.stringify(expression)})`, "eval"),
    close: () => lua.close(),
  };
}

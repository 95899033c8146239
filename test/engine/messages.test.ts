import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { bundleLua } from "../../providers/bundle";
import { formatLuaError, luaCheck } from "../../providers/luaCheck";
import { luaVersionHint } from "../../providers/luaVersionHint";
import { parseDeployArgs } from "../../scripts/lib/deployArgs";
import { configFixAsYamlEdit, formatFailure } from "../../scripts/lib/engine/messages";

describe("configuration fixes without the Pulumi CLI", () => {
  it("shows `pulumi config set` as the edit to make in Pulumi.<stack>.yaml", () => {
    expect(
      configFixAsYamlEdit(
        "aoRegistry:module is not set: pulumi config set aoRegistry:module <43-character module ID> --stack dev",
      ),
    ).toBe(
      "aoRegistry:module is not set: in Pulumi.dev.yaml, under `config:`, set `aoRegistry:module: <43-character module ID>`",
    );
    expect(
      configFixAsYamlEdit('pulumi config set aoRegistry:processName "Skills Registry Process" --stack dev'),
    ).toBe("in Pulumi.dev.yaml, under `config:`, set `aoRegistry:processName: Skills Registry Process`");
    expect(configFixAsYamlEdit("remove it (pulumi config rm aoRegistry:wallet --stack dev)")).toBe(
      "remove it (delete the line `aoRegistry:wallet: ...` from Pulumi.dev.yaml)",
    );
  });

  it("never suggests writing the wallet or a token into the stack file: the environment instead", () => {
    const wallet = configFixAsYamlEdit(
      `store it encrypted: pulumi config set --secret aoRegistry:wallet "$(cat wallet.json)" --stack dev`,
    );
    expect(wallet).toContain("export AO_WALLET_FILE=");
    expect(wallet).not.toMatch(/set `aoRegistry:wallet/);
    expect(
      configFixAsYamlEdit("pulumi config set --secret aoRegistry:githubToken <token> --stack production"),
    ).toContain("export GITHUB_TOKEN=");
  });

  it("says which command resumes: npm run deploy:dev, not pulumi up", () => {
    expect(configFixAsYamlEdit("run `pulumi up` again to resume")).toBe(
      "run `npm run deploy:dev` again to resume",
    );
  });
});

describe("a failure is reported in lines, the stack trace only with --verbose", () => {
  const err = new Error("first line\nsecond line");
  it("without --verbose: `error:` and the message, no trace", () => {
    const text = formatFailure(err, { verbose: false, withoutCli: true });
    expect(text).toBe("error: first line\n  second line");
  });
  it("with --verbose: the trace too", () => {
    expect(formatFailure(err, { verbose: true, withoutCli: true })).toContain("at ");
  });
});

describe("Lua 5.4 syntax in a Lua 5.3 process", () => {
  it("names file and line and says the process runs Lua 5.3, for <const> and <close>", () => {
    for (const [code, attr] of [
      ["local x <const> = 1", "const"],
      ["local a = 1\nlocal f<close> = nil", "close"],
    ] as const) {
      const [e] = luaCheck(code, "registry.lua");
      expect(formatLuaError(e!)).toMatch(
        new RegExp(`^registry\\.lua:\\d: .*near '<'.*<${attr}>.*Lua 5\\.4.*Lua 5\\.3`),
      );
    }
  });

  it("names the module's own file and line when the bundler compiles it, with the hint", () => {
    const d = mkdtempSync(join(tmpdir(), "lua54-"));
    writeFileSync(join(d, "main.lua"), 'local m = require("util")\nreturn m');
    writeFileSync(join(d, "util.lua"), "local M = {}\n\nlocal limit <const> = 3\nreturn M");
    expect(() => bundleLua(join(d, "main.lua"))).toThrow(
      /util\.lua:3: .*near '<'.*<const>.*Lua 5\.4.*Lua 5\.3/,
    );
  });

  it("adds nothing for errors that are not 5.4-isms, nor for a `<` comparison", () => {
    expect(luaVersionHint("unexpected symbol near '='", "local x = = 1")).toBeUndefined();
    expect(luaVersionHint("unexpected symbol near '<'", "if a < b then")).toBeUndefined();
    expect(luaCheck("local a = 7 // 2")).toEqual([]); // integer division is Lua 5.3
  });
});

describe("deploy:dev's command line", () => {
  it("reads every flag; --adopt= takes an ID that starts with '-'", () => {
    const f = parseDeployArgs([
      "--preview",
      "--json",
      "--verbose",
      "--state",
      "s",
      "--adopt=-abc",
      "--github",
      "o/r",
    ]);
    expect(f).toMatchObject({
      preview: true,
      json: true,
      verbose: true,
      state: "s",
      adopt: "-abc",
      github: { owner: "o", repository: "r" },
    });
    expect(parseDeployArgs(["--diff"]).passthrough).toEqual(["--diff"]);
  });

  it("takes --config key=value, repeatable, as this run's stack settings, and refuses a pair without a key", () => {
    expect(parseDeployArgs(["--config", "movePageBytes=1024", "--config=appName=A=B"]).config).toEqual({
      movePageBytes: "1024",
      appName: "A=B",
    });
    expect(() => parseDeployArgs(["--config", "=x"])).toThrow(/use --config <key>=<value>/);
  });
  it("refuses a malformed --github", () => {
    expect(() => parseDeployArgs(["--github", "just-owner"])).toThrow(/use --github <owner>\/<repository>/);
  });
});

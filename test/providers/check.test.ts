import { describe, expect, it } from "vitest";
import { checkInputs, Provider } from "../../providers/aoProcess";
import { PREVIEW_UNKNOWN as UNKNOWN } from "../../providers/aoValues";
import { ENTRY_HEADER, moduleHeader } from "../../providers/bundle";
import { sha256Hex } from "../../providers/hash";
import { ID, LUA54_HINT } from "./support/inputs";

const news = {
  code: "return 1",
  module: ID("m"),
  scheduler: ID("s"),
  name: "registry",
  tags: { "Z-Tag": "z", "App-Name": "registry" },
  endpoints: { mu: "http://localhost:1", cu: "http://localhost:2", gateway: "http://localhost:3" },
};

describe("check", () => {
  it("applies defaults, sorts record tags into a list and computes the code hash", () => {
    const { inputs, failures } = checkInputs(news);
    expect(failures).toEqual([]);
    expect(inputs).toMatchObject({
      codeSha256: sha256Hex("return 1"),
      upgrade: "replace",
      validation: { action: "Info", hashTag: "Code-Sha256", skip: false },
      tags: [
        { name: "App-Name", value: "registry" },
        { name: "Z-Tag", value: "z" },
      ],
    });
  });

  it("fails on a Lua syntax error with file:line, before anything reaches the network", async () => {
    const result = await new Provider().check({} as never, { ...news, code: "local x <const> = 1" } as never);
    expect(result.failures).toEqual([
      { property: "code", reason: `process.lua:1: unexpected symbol near '<' ${LUA54_HINT}` },
    ]);
    expect(result.inputs).toBeUndefined();
  });

  it("fails on a Lua syntax error in bundled code too", () => {
    const code = `${ENTRY_HEADER}return require("m")\nend\n${moduleHeader("m")}return = 1\nend\nreturn __ao_bundle_entry(...)`;
    expect(checkInputs({ ...news, code }).failures).toEqual([
      { property: "code", reason: "process.lua:3: unexpected symbol near '='" },
    ]);
  });

  it("reports validation failures by property", () => {
    expect(
      checkInputs({ ...news, module: "x", upgrade: "blue-green" }).failures.map((f) => f.property),
    ).toEqual(["module", "upgrade"]);
  });

  it("does not fail on values unknown during preview", () => {
    const { failures } = checkInputs({
      ...news,
      module: UNKNOWN,
      endpoints: { ...news.endpoints, cu: UNKNOWN },
    });
    expect(failures).toEqual([]);
  });

  it("keeps __provider out of the way: diff ignores it", async () => {
    const { inputs } = checkInputs(news);
    const olds = {
      ...inputs!,
      processId: ID("p"),
      evalMessageId: ID("e"),
      owner: ID("o"),
      deployedAt: "t",
      deploymentId: "d",
    };
    const d = await new Provider().diff(
      ID("p"),
      { ...olds, __provider: "a" } as never,
      { ...inputs!, __provider: "b" } as never,
    );
    expect(d).toEqual({ changes: false });
  });
});

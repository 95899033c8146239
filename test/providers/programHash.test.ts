import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { bundleLua } from "../../providers/bundle";
import { checkInputs } from "../../providers/check";
import { diff, sameProgramOnly } from "../../providers/diff";
import { sha256Hex } from "../../providers/hash";
import { PROGRAM_HASH_METHOD, programSha256, sameProgram } from "../../providers/programHash";
import type { Inputs, Outputs } from "../../providers/types";
import { ID, sampleInputs } from "./support/inputs";

const code = `-- the registry's counter
local count = 0 -- starts at zero
Handlers.add("Count", "Count", function(msg)
  count = count + 1
  msg.reply({ Data = tostring(count) })
end)
`;
const commented = `--[[ a long comment
     over lines ]]
local count   =   0
Handlers.add("Count", "Count", function(msg)   -- the handler
    count = count + 1

    msg.reply({ Data = tostring(count) })  end)`;

describe("the program hash", () => {
  it("ignores comments, blank lines, indentation and spacing", () => {
    expect(programSha256(commented)).toBe(programSha256(code));
    expect(sha256Hex(commented)).not.toBe(sha256Hex(code));
    expect(programSha256(code)).toMatch(
      new RegExp(`^${PROGRAM_HASH_METHOD.replace(/[.]/g, "\\.")}:[0-9a-f]{64}$`),
    );
  });

  it.each([
    ["a number", code.replace("count + 1", "count + 2")],
    ["a name", code.replace(/count/g, "total")],
    ["a string", code.replace('"Count", "Count"', '"Count", "Counter"')],
    ["an operator", code.replace("count + 1", "count - 1")],
    ["the quoting of a string", code.replace('"Count", "Count"', "'Count', 'Count'")],
    [
      "a statement's order",
      code.replace("local count = 0 -- starts at zero\n", "").concat("local count = 0\n"),
    ],
  ])("changes with %s", (_what, other) => {
    expect(programSha256(other)).not.toBe(programSha256(code));
  });

  it("sees through the registry's own comments: the bundle of the real entry file, with a comment added to a module", () => {
    const entry = join(__dirname, "..", "..", "ao-process", "registry.lua");
    const real = bundleLua(entry).code;
    const module = "registry/validate.lua";
    const original = readFileSync(join(__dirname, "..", "..", "ao-process", module), "utf8");
    const withComment = real.replace(original, `-- a note for the next maintainer\n${original}`);
    expect(withComment).not.toBe(real);
    expect(programSha256(withComment)).toBe(programSha256(real));
  });

  it("compares only hashes computed the same way", () => {
    const h = programSha256(code);
    expect(sameProgram(h, h)).toBe(true);
    expect(sameProgram(h.replace(PROGRAM_HASH_METHOD, "lua5.3-ast/luaparse-9.9.9"), h)).toBe(false);
    expect(sameProgram(undefined, h)).toBe(false);
    expect(sameProgram(h, undefined)).toBe(false);
  });
});

describe("a change that leaves the program the same", () => {
  const checked = (text: string): Inputs => {
    const { inputs, failures } = checkInputs({ ...sampleInputs(), code: text });
    expect(failures).toEqual([]);
    return inputs!;
  };
  const deployed = (inputs: Inputs): Outputs => {
    const { code: _code, ...rest } = inputs;
    return {
      ...rest,
      processId: ID("p"),
      owner: ID("o"),
      deployedAt: "2026-01-01T00:00:00.000Z",
      deploymentId: "d",
    };
  };

  it("is an in-place update of the code (an Eval into the same process), not a replacement", () => {
    const olds = deployed(checked(code));
    const news = checked(commented);
    expect(sameProgramOnly(olds, news)).toBe(true);
    expect(diff(olds, news)).toMatchObject({ changes: true, replaces: [] });
  });

  it("a different program still replaces the process", () => {
    const olds = deployed(checked(code));
    expect(diff(olds, checked(code.replace("count + 1", "count + 2")))).toMatchObject({ replaces: ["code"] });
  });

  it("state from before the program hash: the same text is no change at all, other text replaces as before", () => {
    const { programSha256: _p, ...olds } = deployed(checked(code));
    expect(diff(olds, checked(code))).toEqual({ changes: false });
    expect(diff(olds, checked(commented))).toMatchObject({ replaces: ["code"] });
  });

  it("a program hash computed another way is never taken as the same program", () => {
    const olds = deployed(checked(code));
    olds.programSha256 = olds.programSha256!.replace(PROGRAM_HASH_METHOD, "lua5.3-ast/luaparse-0.0.1");
    expect(diff(olds, checked(commented))).toMatchObject({ replaces: ["code"] });
  });
});

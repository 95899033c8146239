/**
 * The AoProcess resource under Pulumi mocks: the code is bundled when the resource is declared, goes in
 * as a plain input, and the declared outputs resolve. Mocks are set before the resource is created.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";

const registered: Record<string, unknown>[] = [];
beforeAll(async () => {
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        registered.push(args.inputs);
        // What a provider would derive from what it was sent: a process ID from the code it deployed.
        const processId = createHash("sha256")
          .update(String(args.inputs.code))
          .digest("base64url")
          .slice(0, 43);
        return { id: processId, state: { ...args.inputs, processId, owner: "o".repeat(43) } };
      },
      call: () => ({}),
    },
    "project",
    "stack",
    true,
  );
});

const ID = (c: string) => c.repeat(43);
const output = <T>(o: pulumi.Output<T>) => new Promise<T>((resolve) => o.apply(resolve));

describe("AoProcess", () => {
  it("bundles the entry file at declaration and passes the code as a plain input", async () => {
    const { AoProcess } = await import("../../providers/aoProcess");
    const { bundleLua } = await import("../../providers/bundle");
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "res-")), "proc");
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, "main.lua"), 'local m = require("m")\nreturn m');
    fs.writeFileSync(path.join(dir, "m.lua"), "return 1");
    const p = new AoProcess("r", {
      entry: path.join(dir, "main.lua"),
      module: ID("m"),
      scheduler: ID("s"),
      name: "r",
      endpoints: { mu: "http://mu", cu: "http://cu", gateway: "http://gw" },
    });
    const bundle = bundleLua(path.join(dir, "main.lua")).code;
    // The declared outputs carry what the provider answered for exactly that code.
    expect(await output(p.processId)).toBe(
      createHash("sha256").update(bundle).digest("base64url").slice(0, 43),
    );
    const inputs = registered.at(-1)!;
    expect(inputs.code).toBe(bundle);
    expect(inputs).not.toHaveProperty("entry");
    expect(typeof inputs.__provider).toBe("string");
  });

  it("passes the adoption under its one name, adoptProcessId, and declares processId as an output", async () => {
    const { AoProcess } = await import("../../providers/aoProcess");
    const p = new AoProcess("adopting", {
      code: "return 1",
      module: ID("m"),
      scheduler: ID("s"),
      name: "adopting",
      endpoints: { mu: "http://mu", cu: "http://cu", gateway: "http://gw" },
      adoptProcessId: ID("a"),
    });
    expect(await output(p.processId)).toBe(
      createHash("sha256").update("return 1").digest("base64url").slice(0, 43),
    );
    const inputs = registered.at(-1)!;
    expect(inputs.adoptProcessId).toBe(ID("a"));
    expect(inputs).not.toHaveProperty("processId");
  });

  it("refuses both or neither of entry and code", async () => {
    const { AoProcess } = await import("../../providers/aoProcess");
    const base = {
      module: ID("m"),
      scheduler: ID("s"),
      name: "r",
      endpoints: { mu: "", cu: "", gateway: "" },
    };
    expect(() => new AoProcess("x", base)).toThrowError(/exactly one of `entry`.*or `code`/);
    expect(() => new AoProcess("y", { ...base, entry: "a.lua", code: "return 1" })).toThrowError(
      /exactly one/,
    );
  });

  it("fails at declaration, naming the module, when a required file is missing", async () => {
    const { AoProcess } = await import("../../providers/aoProcess");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "res-"));
    fs.writeFileSync(path.join(dir, "main.lua"), 'return require("gone")');
    expect(
      () =>
        new AoProcess("z", {
          entry: path.join(dir, "main.lua"),
          module: ID("m"),
          scheduler: ID("s"),
          name: "z",
          endpoints: { mu: "", cu: "", gateway: "" },
        }),
    ).toThrowError(/Lua module "gone" not found/);
  });
});

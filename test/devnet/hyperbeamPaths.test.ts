import { describe, expect, test } from "vitest";
import { parseHyperbeamPath, pathTags } from "../../devnet/hyperbeamPaths";
import { HttpError } from "../../devnet/requestInput";

const PID = "Pid_-0123456789abcdefghijklmnopqrstuvwxyzAB";

/** The 400 a path gets, or a failure if it parses. */
function refusal(method: string, path: string): string {
  try {
    parseHyperbeamPath(method, path);
  } catch (err) {
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).status).toBe(400);
    return (err as HttpError).message;
  }
  throw new Error(`${method} ${path} parsed`);
}

describe("parseHyperbeamPath: the paths aoconnect 0.0.98 requests in mainnet mode", () => {
  test.each([
    ["GET", "/~meta@1.0/info/address", { kind: "address" }],
    ["POST", "/push", { kind: "spawn" }],
    ["POST", `/${PID}~process@1.0/push`, { kind: "message", process: PID }],
    ["POST", `/${PID}~process@1.0/compute/results=7`, { kind: "result", process: PID, slot: 7 }],
    ["POST", `/${PID}/compute/results=0`, { kind: "result", process: PID, slot: 0 }],
    ["POST", `/${PID}/slot/current`, { kind: "currentSlot", process: PID }],
    ["POST", `/${PID}~process@1.0/as=execution/compute`, { kind: "dryRun", process: PID, tags: [] }],
    [
      "POST",
      `/${PID}~process@1.0/as=execution/compute&Action=Info&Owner-Of=x`,
      {
        kind: "dryRun",
        process: PID,
        tags: [
          { name: "Action", value: "Info" },
          { name: "Owner-Of", value: "x" },
        ],
      },
    ],
  ])("%s %s", (method, path, route) => {
    expect(parseHyperbeamPath(method, path)).toEqual(route);
  });

  test("a trailing slash is the same route", () => {
    expect(parseHyperbeamPath("POST", "/push/")).toEqual({ kind: "spawn" });
    expect(parseHyperbeamPath("POST", `/${PID}/slot/current/`)).toEqual({
      kind: "currentSlot",
      process: PID,
    });
  });

  test("other paths and methods are not HyperBEAM routes (the router answers its 404)", () => {
    for (const [method, path] of [
      ["GET", "/push"],
      ["POST", "/~meta@1.0/info/address"],
      ["PUT", `/${PID}~process@1.0/push`],
      ["POST", "/"],
      ["POST", "/dry-run"],
      ["POST", `/${PID}~other@1.0/push`],
      ["POST", `/${PID}/push`],
      ["POST", `/${PID}~process@1.0/compute`],
      ["GET", `/su/${PID}`],
    ] as const)
      expect(parseHyperbeamPath(method, path), `${method} ${path}`).toBeUndefined();
  });

  test("a malformed process ID or slot is a 400 naming it", () => {
    expect(refusal("POST", "/abc~process@1.0/push")).toMatch(/invalid process id "abc"/);
    expect(refusal("POST", `/${PID}/compute/results=-1`)).toMatch(/invalid slot "-1"/);
    expect(refusal("POST", `/${PID}/compute/results=`)).toMatch(/invalid slot ""/);
    expect(refusal("POST", `/${PID}/compute/results=1e3`)).toMatch(/invalid slot "1e3"/);
    expect(refusal("POST", `/${PID}/compute/results=${"9".repeat(16)}`)).toMatch(/invalid slot/);
  });
});

describe("pathTags: a dry-run's tags as aoconnect writes them into the path", () => {
  test("percent-encoding is decoded; a value keeps its slashes", () => {
    expect(pathTags("&Action=Info%20x/y&Q=a%23b%3Fc%25d&Empty=")).toEqual([
      { name: "Action", value: "Info x/y" },
      { name: "Q", value: "a#b?c%d" },
      { name: "Empty", value: "" },
    ]);
    expect(pathTags("&N%C3%A4me=%E2%98%83")).toEqual([{ name: "Näme", value: "☃" }]);
  });

  test.each([
    ["&Action=%ZZ", /tag Action's value .* bad percent-escape "%ZZ"/],
    ["&Action=50%", /bad percent-escape "%"/],
    ["&Action=%4", /bad percent-escape "%4"/],
    ["&Action=a%2", /bad percent-escape "%2"/],
    ["&A%ZZ=x", /a tag's name .* bad percent-escape "%ZZ"/],
    ["&Action=%FF", /percent-escapes "%FF" that are not UTF-8/],
    ["&Action=%C0%AF", /percent-escapes "%C0%AF" that are not UTF-8/],
    ["&Action=%ED%A0%80", /that are not UTF-8/],
  ])("a bad percent-escape (%s) is a 400, never taken literally", (rest, expected) => {
    let error: unknown;
    try {
      pathTags(rest);
    } catch (err) {
      error = err;
    }
    expect((error as HttpError).status).toBe(400);
    expect((error as Error).message).toMatch(expected);
  });

  test("a tag without a name or =, an empty tag, a repeated name or text before the first & is a 400", () => {
    const message = (rest: string) => {
      try {
        pathTags(rest);
      } catch (err) {
        expect((err as HttpError).status).toBe(400);
        return (err as Error).message;
      }
      throw new Error(`${rest} parsed`);
    };
    expect(message("&Action")).toMatch(/a tag with no = "Action"/);
    expect(message("&=x")).toMatch(/a tag with no name/);
    expect(message("&A=1&&B=2")).toMatch(/an empty tag/);
    expect(message("&A=1&A=2")).toMatch(/tag A is given twice/);
    expect(message("Action=Info")).toMatch(/tags follow as &<Name>=<value>/);
  });
});

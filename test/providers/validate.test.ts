import { describe, expect, it } from "vitest";
import { validateInputs } from "../../providers/validate";
import { ID, rawInputs } from "./support/inputs";

const valid = rawInputs({
  endpoints: { mu: "http://localhost:4002", cu: "https://cu.example", gateway: "http://127.0.0.1:4000" },
});
const failures = (patch: Record<string, unknown>) => validateInputs({ ...valid, ...patch });

describe("validateInputs", () => {
  it("accepts valid inputs, with optional authority, adoptProcessId, tags, upgrade and validation", () => {
    expect(validateInputs(valid)).toEqual([]);
    expect(
      failures({
        authority: ID("a"),
        adoptProcessId: ID("p-_9".charAt(0)),
        tags: [{ name: "App-Name", value: "x" }],
        upgrade: "eval",
        validation: { action: "Info", hashTag: "Code-Sha256", skip: false },
      }),
    ).toEqual([]);
  });

  it.each(["module", "scheduler", "authority", "adoptProcessId"])(
    "names %s when it is not a 43-char Arweave ID",
    (p) => {
      const [f] = failures({ [p]: "short-id" });
      expect(f?.property).toBe(p);
      expect(f?.reason).toContain('"short-id"');
      expect(f?.reason).toMatch(/43 characters of base64url/);
    },
  );

  it("rejects an endpoint that is not an http(s) URL, naming which one", () => {
    expect(failures({ endpoints: { ...(valid.endpoints as object), cu: "ftp://x" } })).toEqual([
      {
        property: "endpoints.cu",
        reason: expect.stringMatching(/"ftp:\/\/x" uses ftp:: use https:/),
      },
    ]);
    expect(failures({ endpoints: { ...(valid.endpoints as object), mu: "localhost" } })[0]?.property).toBe(
      "endpoints.mu",
    );
    expect(failures({ endpoints: undefined })[0]?.property).toBe("endpoints");
  });

  it("takes plain http only on loopback: the same URL rule as the stack config", () => {
    expect(failures({ endpoints: { ...(valid.endpoints as object), mu: "http://10.0.0.1:4002" } })).toEqual([
      { property: "endpoints.mu", reason: expect.stringMatching(/must use https/) },
    ]);
    expect(
      failures({ endpoints: { ...(valid.endpoints as object), cu: "https://cu.example/?x=1" } }),
    ).toEqual([{ property: "endpoints.cu", reason: expect.stringMatching(/query or fragment/) }]);
  });

  it("takes either AO network's endpoints, naming the key of the one that is wrong", () => {
    expect(failures({ endpoints: { network: "legacy", ...(valid.endpoints as object) } })).toEqual([]);
    expect(
      failures({
        authority: ID("a"),
        endpoints: { network: "mainnet", node: "https://push.forward.computer" },
      }),
    ).toEqual([]);
    expect(failures({ endpoints: { network: "mainnet", node: "ftp://n" } })[0]?.property).toBe(
      "endpoints.node",
    );
    expect(failures({ endpoints: { network: "testnet", node: "https://n" } })).toEqual([
      { property: "endpoints.network", reason: expect.stringMatching(/"testnet" is not an AO network/) },
    ]);
    expect(failures({ endpoints: { ...(valid.endpoints as object), node: "https://n" } })).toEqual([
      {
        property: "endpoints",
        reason: expect.stringMatching(/unknown key\(s\) node: legacy AO takes mu, cu/),
      },
    ]);
    expect(failures({ endpoints: { mu: "https://mu.example" } }).map((f) => f.property)).toEqual([
      "endpoints.cu",
      "endpoints.gateway",
    ]);
  });

  describe("on AO mainnet", () => {
    const mainnet = { network: "mainnet", node: "https://push.forward.computer" };

    it("takes no authority (the provider reads the node's address when it creates the process), or a pin", () => {
      expect(failures({ endpoints: mainnet })).toEqual([]);
      expect(failures({ endpoints: mainnet, authority: ID("a") })).toEqual([]);
      expect(failures({ endpoints: { ...mainnet, computeNode: "https://compute.example" } })).toEqual([]);
    });

    it("refuses the legacy messenger's authority", () => {
      const [f] = failures({ endpoints: mainnet, authority: "fcoN_xJeisVsPXA-trzVAuIiqO3ydLQxM-L4XbrQKzY" });
      expect(f).toEqual({
        property: "authority",
        reason: expect.stringMatching(/is the legacy network's messenger, not a mainnet node/),
      });
    });

    it("refuses a repeated tag name (aoconnect folds tags into an object), ignoring case as HyperBEAM does", () => {
      const tags = [
        { name: "App-Name", value: "a" },
        { name: "Env", value: "x" },
        { name: "app-name", value: "b" },
      ];
      expect(failures({ endpoints: mainnet, authority: ID("a"), tags })).toEqual([
        {
          property: "tags[2]",
          reason: expect.stringMatching(
            /name "app-name" repeats tags\[0\]: AO mainnet keeps one value per tag name/,
          ),
        },
      ]);
      // The legacy network keeps every tag: repeats stay allowed there.
      expect(failures({ tags })).toEqual([]);
    });
  });

  it("never echoes credentials in a URL", () => {
    const [f] = failures({
      endpoints: { ...(valid.endpoints as object), gateway: "https://user:hunter2@gw.example" },
    });
    expect(f?.property).toBe("endpoints.gateway");
    expect(f?.reason).not.toContain("hunter2");
    expect(f?.reason).toMatch(/contains credentials/);
  });

  it("refuses reserved tags (case-insensitively), saying which property to use", () => {
    const fs = failures({
      tags: [
        { name: "module", value: "x" },
        { name: "Data-Protocol", value: "ao" },
        { name: "Name", value: "n" },
      ],
    });
    expect(fs.map((f) => f.property)).toEqual(["tags[0]", "tags[1]", "tags[2]"]);
    expect(fs[0]?.reason).toMatch(/reserved \(use the `module` property\)/);
    expect(fs[2]?.reason).toMatch(/use the `name` property/);
  });

  it("checks tag shapes and ANS-104 sizes", () => {
    expect(failures({ tags: [{ name: "A", value: 1 }] })[0]?.property).toBe("tags[0]");
    expect(failures({ tags: [{ name: "", value: "v" }] })[0]?.reason).toMatch(/empty name/);
    expect(failures({ tags: [{ name: "A", value: "x".repeat(3073) }] })[0]?.reason).toMatch(/3072 bytes/);
    expect(
      failures({ tags: Array.from({ length: 129 }, (_, i) => ({ name: `T${i}`, value: "" })) })[0]?.reason,
    ).toMatch(/at most 128/);
    expect(failures({ tags: "App=x" })[0]?.property).toBe("tags");
  });

  it("accepts only the replace and eval upgrade strategies", () => {
    expect(failures({ upgrade: "rolling" })).toEqual([
      {
        property: "upgrade",
        reason: expect.stringMatching(/"rolling" is not an upgrade strategy: use "replace".*or "eval"/),
      },
    ]);
  });

  it("checks validation options, naming the option", () => {
    expect(failures({ validation: { action: "" } })[0]?.property).toBe("validation.action");
    expect(failures({ validation: { skip: "yes" } })[0]?.property).toBe("validation.skip");
    expect(failures({ validation: { tag: "x" } })[0]?.reason).toMatch(
      /unknown key\(s\) tag: use action, hashTag or skip/,
    );
  });

  it("requires code and a name", () => {
    expect(failures({ code: "  " }).map((f) => f.property)).toEqual(["code"]);
    expect(failures({ name: "" }).map((f) => f.property)).toEqual(["name"]);
  });

  it("shortens long bad values", () => {
    const [f] = failures({ module: "x".repeat(500) });
    expect(f?.reason.length).toBeLessThan(300);
  });
});

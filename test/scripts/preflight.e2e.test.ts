/**
 * `npm run preflight` against a local network, which serves the routes the preflight reads on AO: the
 * node's address, and through its gateway's GraphQL the scheduler's Scheduler-Location record and the
 * module. Read-only and without a wallet: every request the node sees is a GET.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isUnknownStack, main } from "../../scripts/preflight";
import { type SeenRequest, startFaultProxy } from "../providers/support/faultProxy";
import { type Devnet, withDevnet } from "../support/devnet";
import { mainnetClient } from "../support/mainnetClient";
import { testWallet } from "../support/wallets";

let net: Devnet & { cleanup(): Promise<void> };
let project: string;
const proxies: { close(): Promise<void> }[] = [];
const OTHER = testWallet("bob").address;

beforeAll(async () => {
  net = await withDevnet();
  project = mkdtempSync(join(tmpdir(), "preflight-"));
});
afterAll(async () => {
  for (const p of proxies) await p.close();
  await net?.cleanup();
  rmSync(project, { recursive: true, force: true });
});

/** Writes Pulumi.<stack>.yaml in the temp project: the local network's values, with `patch` over them. */
function stackFile(stack: string, patch: Record<string, string | undefined> = {}): void {
  const config: Record<string, string | undefined> = {
    network: "mainnet",
    nodeUrl: net.urls.node,
    module: net.moduleId,
    scheduler: net.schedulerId,
    gatewayUrl: net.urls.gateway,
    ...patch,
  };
  const lines = Object.entries(config)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `  aoRegistry:${k}: ${v}`);
  writeFileSync(join(project, `Pulumi.${stack}.yaml`), `config:\n${lines.join("\n")}\n`);
}

/** Runs the preflight; `outputs` is what `pulumi stack output --json` answers (or the error it throws). */
async function preflight(argv: string[], outputs: string | Error = "{}") {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, {
    repoRoot: project,
    env: {},
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    stackOutput: () => {
      if (outputs instanceof Error) throw outputs;
      return outputs;
    },
    readFile: (p) => {
      try {
        return readFileSync(p, "utf8");
      } catch {
        return undefined;
      }
    },
  });
  return { code, stdout, stderr };
}

const recorded = (authority: string) =>
  JSON.stringify({ processId: "P".repeat(43), authority, network: "mainnet", module: net.moduleId });

describe("npm run preflight -- --stack <name>", () => {
  it("a first deploy: one table of the node's address, the scheduler's location and the module, and go", async () => {
    stackFile("first");
    const r = await preflight(["--stack", "first"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`node's address`);
    expect(r.stdout).toContain(net.nodeAddress);
    expect(r.stdout).toContain(`GET ${net.urls.node}/~meta@1.0/info/address`);
    expect(r.stdout).toContain("none yet: the first deploy spawns with the node's address");
    expect(r.stdout).toContain(`${net.schedulerId} at ${net.urls.su}`);
    expect(r.stdout).toContain(`its Scheduler-Location record via POST ${net.urls.gateway}/graphql`);
    expect(r.stdout).toMatch(new RegExp(`module +${net.moduleId} \\(Module-Format wasm64`));
    expect(r.stdout).toMatch(/verdict: go/);
  });

  it("checks the node's address against the recorded authority: the same goes, another stops naming both and the fix", async () => {
    stackFile("recorded");
    expect((await preflight(["--stack", "recorded"], recorded(net.nodeAddress!))).code).toBe(0);
    const r = await preflight(["--stack", "recorded"], recorded(OTHER));
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("verdict: STOP");
    expect(r.stdout).toContain(
      `reports address ${net.nodeAddress}, but process ${"P".repeat(43)} was spawned with authority ${OTHER}`,
    );
    expect(r.stdout).toContain(
      `pulumi config set aoRegistry:authority ${net.nodeAddress} (this replaces the process`,
    );
  });

  it("checks a pinned authority the same way, and reads outputs from --from-file", async () => {
    stackFile("pinned", { authority: OTHER });
    const r = await preflight(["--stack", "pinned"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`reports address ${net.nodeAddress}, but the stack pins authority ${OTHER}`);
    const file = join(project, "outputs.json");
    writeFileSync(file, recorded(OTHER));
    stackFile("pinned-new", { authority: net.nodeAddress });
    const replace = await preflight(["--stack", "pinned-new", "--from-file", file], new Error("not called"));
    expect(replace.code, replace.stdout).toBe(0);
    expect(replace.stdout).toContain(`the pin differs from the recorded ${OTHER}: the deploy replaces`);
  });

  it("an unknown scheduler, an unknown module, an unreachable node, no gateway: each stops, named", async () => {
    stackFile("scheduler", { scheduler: OTHER });
    const s = await preflight(["--stack", "scheduler"]);
    expect(s.code).toBe(1);
    expect(s.stdout).toContain(`scheduler ${OTHER}: no Scheduler-Location record signed by ${OTHER}`);

    stackFile("module", { module: "M".repeat(43) });
    const m = await preflight(["--stack", "module"]);
    expect(m.code).toBe(1);
    expect(m.stdout).toContain(`module ${"M".repeat(43)}: no transaction ${"M".repeat(43)}`);

    stackFile("down", { nodeUrl: "http://127.0.0.1:1" });
    const d = await preflight(["--stack", "down"]);
    expect(d.code).toBe(1);
    expect(d.stdout).toContain(
      "node's address: could not look it up: http://127.0.0.1:1/~meta@1.0/info/address",
    );

    stackFile("nogateway", { gatewayUrl: undefined });
    const g = await preflight(["--stack", "nogateway"]);
    expect(g.code).toBe(1);
    expect(g.stdout).toContain("no gateway to look it up through");
    expect(g.stdout).toContain(
      "pulumi config set aoRegistry:gatewayUrl https://arweave.net --stack nogateway",
    );
  });

  it("a module that is another kind of transaction, or a node that answers no address, stops it", async () => {
    const process = await (await mainnetClient(net.urls.node!, testWallet("alice").jwk)).spawn({
      module: net.moduleId,
    });
    stackFile("notmodule", { module: process });
    const m = await preflight(["--stack", "notmodule"]);
    expect(m.code).toBe(1);
    expect(m.stdout).toContain(`transaction ${process} is not a module (Type Process)`);

    const p = await startFaultProxy(net.urls.node!, (r) =>
      r.url === "/~meta@1.0/info/address" ? { status: 200, body: "<html>hello</html>" } : "pass",
    );
    proxies.push(p);
    stackFile("notnode", { nodeUrl: p.url });
    const n = await preflight(["--stack", "notnode"]);
    expect(n.code).toBe(1);
    expect(n.stdout).toContain('answered "<html>hello</html>", not an address');
  });

  it("outputs the backend cannot give stop it; a stack the backend does not know yet is a first deploy", async () => {
    stackFile("outputs");
    const noLogin = await preflight(
      ["--stack", "outputs"],
      new Error("error: PULUMI_ACCESS_TOKEN must be set for login"),
    );
    expect(noLogin.code).toBe(1);
    expect(noLogin.stdout).toContain(
      "recorded outputs: could not look it up: error: PULUMI_ACCESS_TOKEN must be set",
    );
    const unknown = await preflight(
      ["--stack", "outputs"],
      new Error("error: no stack named 'outputs' found"),
    );
    expect(unknown.code).toBe(0);
    expect(isUnknownStack("error: no stack named 'production' found")).toBe(true);
    expect(isUnknownStack("error: PULUMI_ACCESS_TOKEN must be set")).toBe(false);
  });

  it("is read-only: the node sees GETs only, and no wallet is read", async () => {
    const seen: SeenRequest[] = [];
    const p = await startFaultProxy(net.urls.node!, (r) => {
      seen.push(r);
      return "pass";
    });
    proxies.push(p);
    stackFile("readonly", { nodeUrl: p.url });
    const r = await preflight(["--stack", "readonly"]);
    expect(r.code, r.stdout).toBe(0);
    expect(seen.map((x) => x.method)).toEqual(["GET"]);
  });

  it("a config the program refuses is a STOP verdict; a usage error exits 2", async () => {
    stackFile("broken", { module: "short" });
    const b = await preflight(["--stack", "broken"]);
    expect(b.code).toBe(1);
    expect(b.stdout).toContain("verdict: STOP: Stack 'broken' has a configuration problem");
    expect((await preflight([])).code).toBe(2);
    expect((await preflight(["--stack", "nowhere"])).stderr).toContain("Pulumi.nowhere.yaml does not exist");
  });
});

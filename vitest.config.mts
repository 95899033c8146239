import { defineConfig } from "vitest/config";
import { memory64Flags, projectRange, testsNodeProblem } from "./devnet/nodeVersions.cjs";

// vitest, @pulumi/pulumi and the local network need a newer Node.js than Debian's 20: `npx vitest` on it
// fails deep inside a test (`process.threadCpuUsage is not a function`, then `Map.groupBy`). Refuse at
// once, naming the version and the command that runs the tests under the right Node.js.
const oldNode = testsNodeProblem(process.version, projectRange());
if (oldNode) throw new Error(oldNode);

export default defineConfig({
  test: {
    include: [
      "test/**/*.test.ts",
      "ao-process/test/**/*.test.ts",
      "devnet/**/*.test.ts",
      "providers/**/*.test.ts",
      "infra/**/*.test.ts",
    ],
    // aos 2.0.x modules are wasm64: Node 22 runs them only with a flag that it refuses in NODE_OPTIONS,
    // and Node 24 refuses the flag (standard memory64). The launcher's helper decides for this Node.
    pool: "forks",
    // providers/dist rebuilt when its sources changed (the host runs the compiled provider).
    globalSetup: ["test/support/globalSetup.ts"],
    execArgv: memory64Flags(process.version),
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: end-to-end files each start a local network; keep them from starving one another.
    maxWorkers: 2,
  },
});

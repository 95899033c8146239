import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: [
      "test/**/*.test.ts",
      "ao-process/test/**/*.test.ts",
      "devnet/**/*.test.ts",
      "providers/**/*.test.ts",
      "infra/**/*.test.ts",
    ],
    // aos 2.0.x modules are wasm64; Node 22 only runs them with this flag, and refuses it in NODE_OPTIONS.
    pool: "forks",
    execArgv: ["--experimental-wasm-memory64"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: end-to-end files each start a local network; keep them from starving one another.
    maxWorkers: 2,
  },
});

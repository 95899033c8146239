// Entry of a worker thread running `vmWorker.ts`. A worker inherits the parent's command-line flags
// (--experimental-wasm-memory64) but not every runner's TypeScript loader (vitest's forks pool has none):
// register tsx here so that the worker loads the same sources in `npm run devnet`, tests and benchmarks.
require("tsx/cjs/api").register();
require("./vmWorker.ts");

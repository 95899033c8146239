// Entry of a worker thread running `vmWorker.ts`. A worker inherits the parent's command-line flags
// (--experimental-wasm-memory64) but not every runner's TypeScript loader (vitest's forks pool has none):
// register tsx here so that the worker loads the same sources in `npm run devnet`, tests and benchmarks.
// ao-loader first, by Node's own loader: through tsx's hook its large emscripten glue would be
// transformed again in every worker (about 100 ms of each worker's start, measured).
require("@permaweb/ao-loader");
require("tsx/cjs/api").register();
require("./vmWorker.ts");

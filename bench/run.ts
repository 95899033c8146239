import { readdirSync } from "node:fs";
import { join } from "node:path";
import { memory64Problem } from "../devnet/nodeVersions.cjs";

// Runs every bench/*.bench.ts (or those named on the command line) in turn, in this process.
async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const files = readdirSync(__dirname)
    .filter((f) => f.endsWith(".bench.ts"))
    .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
    .sort();
  console.log(`node ${process.version}, ${new Date().toISOString()}; benchmarks: ${files.join(", ")}`);
  for (const f of files) {
    const mod = (await import(join(__dirname, f))) as { run: () => Promise<void> };
    await mod.run();
  }
}

// The benchmarks load aos 2.0.x (wasm64): without the flag they would fail deep inside the loader.
const memory64 = memory64Problem(process.version, process.execArgv, "npm run bench");
if (memory64) {
  console.error(memory64);
  process.exit(1);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);

/**
 * Before any test: providers/dist, what Pulumi's provider host runs in the end-to-end tests, is compiled
 * from the sources on disk. `npm test` builds first (pretest); this covers `npm test -- <files>` after an
 * edit and every other way of starting vitest, so that no test runs the provider as it was before.
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { staleBuild, writeStamp } from "../../scripts/provider-build.cjs";

export default function setup(): void {
  const why = staleBuild();
  if (!why) return;
  const root = join(__dirname, "..", "..");
  process.stderr.write(`${why}: rebuilding it (npm run build) before the tests\n`);
  execFileSync(
    process.execPath,
    [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", "providers/tsconfig.build.json"],
    {
      cwd: root,
      stdio: "inherit",
    },
  );
  writeStamp();
}

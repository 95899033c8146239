/**
 * `npm run deploy:local`: an alias of `npm run deploy:dev -- --local-engine`, the deploy through the local
 * engine whether or not a Pulumi CLI is installed (scripts/lib/engine/). Same flags as deploy:dev.
 */
import { join } from "node:path";
import { main } from "./deploy-dev";

if (require.main === module) {
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => process.exit(130));
  main(["--local-engine", ...process.argv.slice(2)], process.env, join(__dirname, "..")).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}

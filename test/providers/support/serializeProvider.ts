/**
 * Serializes the AoProcess provider exactly as @pulumi/pulumi's dynamic Resource does
 * (`serializeFunction(() => provider, { allowSecrets: true })`), in a plain Node process
 * (the test runner's module loader interferes: pulumi/pulumi#10480). Prints JSON
 * `{ text, containsSecrets, ms }` on stdout.
 *
 *   node --import tsx test/providers/support/serializeProvider.ts
 */
import { Provider } from "../../../providers/aoProcess";

(async () => {
  const sc = require("@pulumi/pulumi/runtime/closure/serializeClosure");
  const provider = new Provider();
  const t0 = process.hrtime.bigint();
  const sf = await sc.serializeFunction(() => provider, { allowSecrets: true });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  process.stdout.write(JSON.stringify({ text: sf.text, containsSecrets: sf.containsSecrets, ms }));
})().catch((e) => {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exit(1);
});

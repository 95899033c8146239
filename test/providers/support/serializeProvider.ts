/**
 * The `__provider` an AoProcess carries, as the program produces it: the resource is declared under
 * Pulumi's mocks and its registered inputs are read, in a plain Node process (closure serialization
 * misbehaves under test runners' module loaders, pulumi/pulumi#10480). Also serializes the shim the way
 * the dynamic Resource does (`serializeFunction(() => provider, { allowSecrets: true })`), for
 * `containsSecrets`, which the registered inputs do not show, and its time (`ms`). Prints JSON
 * `{ text, direct, containsSecrets, ms }` on stdout.
 *
 *   node --import tsx test/providers/support/serializeProvider.ts
 */
import * as pulumi from "@pulumi/pulumi";

(async () => {
  let text: string | undefined;
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        text = args.inputs.__provider;
        return { id: "p".repeat(43), state: args.inputs };
      },
      call: () => ({}),
    },
    "aoRegistry",
    "dev",
    false,
  );
  const { AoProcess } = await import("../../../providers/aoProcess");
  const { ProviderShim } = await import("../../../providers/shim");
  const p = new AoProcess("registry", {
    code: "return 1",
    module: "m".repeat(43),
    scheduler: "s".repeat(43),
    name: "registry",
    endpoints: { mu: "http://mu", cu: "http://cu", gateway: "http://gw" },
  });
  await new Promise((resolve) => p.urn.apply(resolve));
  const sc = require("@pulumi/pulumi/runtime/closure/serializeClosure");
  const provider = new ProviderShim();
  const t0 = process.hrtime.bigint();
  const sf = await sc.serializeFunction(() => provider, { allowSecrets: true });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  process.stdout.write(JSON.stringify({ text, direct: sf.text, containsSecrets: sf.containsSecrets, ms }));
})().catch((e) => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exit(1);
});

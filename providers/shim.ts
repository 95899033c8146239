/**
 * What the AoProcess resource serializes into `__provider`: a shim that loads the provider from its
 * package by name when the dynamic-provider host first calls it, so that the state holds about 4 KB (the
 * class, its methods and the serializer's own wrappers; test/providers/serialize.test.ts holds it under
 * 8 KB) instead of the whole provider, 69 KB and more (SST's model).
 *
 * Pulumi's closure serializer copies by value every function and module a provider reaches from a path
 * outside `node_modules`; `require` itself is never captured, so a `require(name)` written in a method is
 * kept as text and runs in the host. The host loads that text as a module at its own path
 * (`node_modules/@pulumi/pulumi/cmd/dynamic-provider`), so `name` resolves from the project's
 * `node_modules`, where `npm ci` links `providers/` (its `dist/`, compiled by the `prepare` script).
 * No path is captured: the project can move.
 *
 * Why a `require` in a method rather than an import of the package: the serializer decides by the
 * module's real path (Node resolves symlinks), and npm's link `node_modules/<name>` -> `providers/`
 * makes that `providers/dist/...`, with no `node_modules` segment, so an imported module would be
 * copied by value again, dependencies and all.
 *
 * Keep this file free of imports that run: everything the shim's methods reach is serialized.
 */
import type * as pulumi from "@pulumi/pulumi";

/** The name `providers/package.json` gives the compiled provider. */
export const PROVIDER_PACKAGE = "@agent-skills-registry/ao-process-provider";

type Implementation = Required<Omit<pulumi.dynamic.ResourceProvider, "configure">> & {
  configure(req: pulumi.dynamic.ConfigureRequest): Promise<void>;
};

export class ProviderShim implements pulumi.dynamic.ResourceProvider {
  /** The loaded provider; created in the host on the first call, never serialized (unset until then). */
  private implementation?: Implementation;

  constructor(
    private readonly packageName: string = PROVIDER_PACKAGE,
    /** The provider class the package exports under this name (one shim type serves every resource). */
    private readonly exportName: string = "Provider",
  ) {}

  private provider(): Implementation {
    if (!this.implementation) {
      const exported = require(this.packageName) as Record<string, new () => Implementation>;
      const Provider = exported[this.exportName];
      if (!Provider)
        throw new Error(`${this.packageName} exports no provider named ${this.exportName}: run npm ci`);
      this.implementation = new Provider();
    }
    return this.implementation;
  }

  configure(req: pulumi.dynamic.ConfigureRequest) {
    return this.provider().configure(req);
  }
  check(olds: unknown, news: unknown) {
    return this.provider().check(olds, news);
  }
  diff(id: string, olds: unknown, news: unknown) {
    return this.provider().diff(id, olds, news);
  }
  create(inputs: unknown) {
    return this.provider().create(inputs);
  }
  read(id: string, props?: unknown) {
    return this.provider().read(id, props);
  }
  update(id: string, olds: unknown, news: unknown) {
    return this.provider().update(id, olds, news);
  }
  delete(id: string, props: unknown) {
    return this.provider().delete(id, props);
  }
}

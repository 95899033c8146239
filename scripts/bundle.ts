/**
 * Prints the registry as the stack deploys it: `ao-process/registry.lua` and its modules bundled by
 * `providers/bundle.ts` (the code whose sha256 `pulumi preview` shows), to load it elsewhere, e.g. in
 * aolite (scripts/aolite.lua). `npm run --silent bundle > registry.bundle.lua`.
 */
import { REGISTRY_ENTRY } from "../infra/program";
import { bundleLua } from "../providers/bundle";

process.stdout.write(bundleLua(REGISTRY_ENTRY).code);

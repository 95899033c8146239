/**
 * The resources, declared from validated settings: the AoProcess that runs the registry, and (when the
 * stack names a GitHub repository) the Actions secret REGISTRY_PROCESS_ID through an explicit provider.
 *
 * Nothing here reads configuration, the environment or credentials: `infra/index.ts` does, and the AO
 * wallet is read by the provider at call time, never passed as an input.
 */
import * as path from "node:path";
import * as github from "@pulumi/github";
import * as pulumi from "@pulumi/pulumi";
import { AoActiveProcess } from "../providers/activeProcess";
import { AoProcess } from "../providers/aoProcess";
import type { StackSettings } from "./config";
import type { StackOutputValues } from "./stackOutputs";

/** The registry's entry file; the modules it `require`s are bundled with it when the resource is declared. */
export const REGISTRY_ENTRY = path.join(__dirname, "..", "ao-process", "registry.lua");

export interface RegistryOptions {
  /** Lua entry file (tests point it elsewhere). */
  entry?: string;
  /** Token for the GitHub provider; made secret here whatever its origin. */
  githubToken?: pulumi.Input<string>;
}

export interface Registry {
  process: AoProcess;
  /** The process the stack names: its outputs change only when a move into a new process completes. */
  active: AoActiveProcess;
  githubProvider?: github.Provider;
  secret?: github.ActionsSecret;
  outputs: StackOutputValues;
}

export function declareRegistry(settings: StackSettings, opts: RegistryOptions = {}): Registry {
  const process = new AoProcess("registry", {
    entry: opts.entry ?? REGISTRY_ENTRY,
    module: settings.module,
    scheduler: settings.scheduler,
    ...(settings.authority ? { authority: settings.authority } : {}),
    name: settings.processName,
    tags: settings.tags,
    endpoints: settings.endpoints,
    upgrade: settings.upgrade,
    ...(settings.adoptProcessId ? { adoptProcessId: settings.adoptProcessId } : {}),
    stateTransfer: true,
  });
  // A replacement's state moves in this resource's update (providers/activeProcess.ts); everything the
  // stack says about its process comes from it.
  const active = new AoActiveProcess("registry-active", {
    process,
    acceptDataLoss: settings.acceptDataLoss,
    pageBytes: settings.movePageBytes,
  });

  let githubProvider: github.Provider | undefined;
  let secret: github.ActionsSecret | undefined;
  const gh = settings.github;
  if (gh) {
    githubProvider = new github.Provider("cli-repository", {
      owner: gh.owner,
      ...(opts.githubToken !== undefined ? { token: pulumi.secret(opts.githubToken) } : {}),
    });
    secret = new github.ActionsSecret(
      "registry-process-id",
      { repository: gh.repository, secretName: gh.secretName, value: active.processId },
      // The secret follows the active process: rewritten when a move completes; deleting the stack removes it.
      { provider: githubProvider, deleteBeforeReplace: true },
    );
  }

  return {
    process,
    active,
    githubProvider,
    secret,
    outputs: {
      processId: active.processId,
      codeSha256: active.codeSha256,
      owner: active.owner,
      module: active.module,
      scheduler: active.scheduler,
      // The process's: on AO mainnet the node's address, resolved when it was created (or the pin).
      authority: active.authority,
      network: settings.endpoints.network,
      endpoints: settings.endpoints,
      deploymentId: active.deploymentId,
      deployedAt: active.deployedAt,
      githubSecret: gh ? `${gh.owner}/${gh.repository}:${gh.secretName}` : undefined,
    },
  };
}

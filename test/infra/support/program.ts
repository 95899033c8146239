/**
 * Runs the real Pulumi program (infra/index.ts) under `pulumi.runtime.setMocks` with a given stack
 * configuration, recording every resource registration. Configuration goes in the way the Pulumi CLI
 * hands it to a program: PULUMI_CONFIG / PULUMI_CONFIG_SECRET_KEYS (and the runtime's config store,
 * which @pulumi/pulumi reads once per process, so it is reset too).
 */
import { createHash } from "node:crypto";
import type * as pulumiType from "@pulumi/pulumi";
import { vi } from "vitest";
import { PROJECT } from "../../../infra/config";
import { NO_ENV_WALLET } from "../../support/wallets";
import { readYaml } from "./yaml";

export type Registration = pulumiType.runtime.MockResourceArgs & { urn?: string };

export const AO_PROCESS_TYPE = "pulumi-nodejs:dynamic/ao:AoProcess";
/** Its create and update return its inputs (plus what a move reports), which the mock does too. */
export const ACTIVE_PROCESS_TYPE = "pulumi-nodejs:dynamic/ao:ActiveProcess";
export const GITHUB_PROVIDER_TYPE = "pulumi:providers:github";
export const ACTIONS_SECRET_TYPE = "github:index/actionsSecret:ActionsSecret";

export const MOCK_PROCESS_ID = "mockProcess_0123456789abcdefghijklmnopqrstu";
export const MOCK_OWNER = "mockOwner___0123456789abcdefghijklmnopqrstu";

/** A stack file's config, as the CLI would pass it (namespaced keys, strings). */
export function stackConfig(stack: "dev" | "production"): Record<string, string> {
  const file = readYaml<{ config: Record<string, unknown> }>(`Pulumi.${stack}.yaml`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(file.config)) if (typeof v === "string") out[k] = v;
  return out;
}

export const ns = (k: string) => `${PROJECT}:${k}`;

export interface RunOptions {
  stack: string;
  config: Record<string, string>;
  secretKeys?: string[];
  preview: boolean;
  /** Environment for the program run (restored afterwards). */
  env?: Record<string, string | undefined>;
  /** What the AoActiveProcess reports over its inputs (e.g. a move that has not completed). */
  activeState?: Record<string, unknown>;
}

export interface Run {
  registrations: Registration[];
  byType(type: string): Registration[];
  outputs: Record<string, unknown>;
  /** Unknown outputs (preview) resolve to this marker. */
}

export const UNKNOWN = Symbol("unknown");

async function settle<T>(o: unknown): Promise<unknown> {
  const pulumi = require("@pulumi/pulumi") as typeof pulumiType;
  if (!pulumi.Output.isInstance(o)) return o;
  const out = o as pulumiType.Output<T>;
  // biome-ignore lint/suspicious/noExplicitAny: internal promise accessors of Output
  const anyOut = out as any;
  const known: boolean = await anyOut.isKnown;
  if (!known) return UNKNOWN;
  return new Promise((resolve) => out.apply((v) => resolve(v)));
}

export async function runProgram(opts: RunOptions): Promise<Run> {
  const saved: Record<string, string | undefined> = {};
  const env: Record<string, string | undefined> = {
    PULUMI_CONFIG: JSON.stringify(opts.config),
    PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(opts.secretKeys ?? []),
    GITHUB_TOKEN: undefined,
    ...NO_ENV_WALLET,
    ...opts.env,
  };
  for (const [k, v] of Object.entries(env)) {
    saved[k] = process.env[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  try {
    vi.resetModules();
    const pulumi = require("@pulumi/pulumi") as typeof pulumiType;
    pulumi.runtime.setAllConfig(opts.config, opts.secretKeys ?? []);
    const registrations: Registration[] = [];
    await pulumi.runtime.setMocks(
      {
        newResource(args) {
          registrations.push(args);
          const state: Record<string, unknown> = { ...args.inputs };
          if (args.type === AO_PROCESS_TYPE && !opts.preview) {
            // What the provider's create returns: the inputs plus the deployment's outputs.
            Object.assign(state, {
              processId: args.inputs.adoptProcessId ?? MOCK_PROCESS_ID,
              codeSha256: createHash("sha256").update(args.inputs.code, "utf8").digest("hex"),
              evalMessageId: "mockEval____0123456789abcdefghijklmnopqrstu",
              owner: MOCK_OWNER,
              deployedAt: "2026-11-27T00:00:00.000Z",
              deploymentId: "mock-deployment",
            });
          }
          if (args.type === AO_PROCESS_TYPE && opts.preview) {
            // A preview knows the inputs, not what the deployment produces.
            for (const k of [
              "processId",
              "codeSha256",
              "evalMessageId",
              "owner",
              "deployedAt",
              "deploymentId",
            ]) {
              if (k !== "processId" || args.inputs.adoptProcessId === undefined) delete state[k];
              else state[k] = args.inputs.adoptProcessId;
            }
          }
          if (args.type === ACTIVE_PROCESS_TYPE && opts.activeState) Object.assign(state, opts.activeState);
          const id = args.type === AO_PROCESS_TYPE ? ((state.processId as string) ?? "") : `${args.name}-id`;
          return { id: opts.preview && args.type === AO_PROCESS_TYPE && !state.processId ? "" : id, state };
        },
        call: (args) => args.inputs,
      },
      PROJECT,
      opts.stack,
      opts.preview,
    );
    const program = await import("../../../infra/index");
    const outputs: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(program)) outputs[k] = await settle(v);
    // Registrations that wait on other resources' outputs (the secret waits on the process ID).
    const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };
    await settings.waitForRPCs();
    return {
      registrations,
      byType: (t) => registrations.filter((r) => r.type === t),
      outputs,
    };
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/**
 * The stack's outputs, as `pulumi stack output --json` prints them: the one list, with the rule for
 * each. The program (program.ts, index.ts) produces them, typed by it; `npm run outputs` reads them
 * through it (scripts/outputs.ts). A test keeps the program's exports equal to this list.
 */
import type * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { aoIdSchema, endpointsSchema, rule, show } from "../providers/aoValues";

const sha256Hex = rule<string>((v) =>
  typeof v === "string" && /^[0-9a-f]{64}$/.test(v) ? undefined : `${show(v)} is not a sha256 in hex`,
);

export const stackOutputsSchema = z.object({
  processId: aoIdSchema(),
  /** sha256 of the deployed code, as `check` computed it. */
  codeSha256: sha256Hex,
  /** Address of the wallet that deployed (or adopted) the process. */
  owner: aoIdSchema(),
  module: aoIdSchema(),
  scheduler: aoIdSchema(),
  authority: aoIdSchema().optional(),
  /** The network, and so the mode a CLI connects in: "mainnet" (aoconnect MODE mainnet) or "legacy". */
  network: z.enum(["legacy", "mainnet"]),
  /** From config, so a CLI build never reads stale URLs from an old deployment: `{ network, node }` or `{ network, mu, cu, gateway }`. */
  endpoints: endpointsSchema(),
  deploymentId: z.string().optional(),
  deployedAt: z.string().optional(),
  /** `owner/repository:SECRET`, when the stack publishes the ID to GitHub. */
  githubSecret: z.string().optional(),
});

export type StackOutputs = z.infer<typeof stackOutputsSchema>;
export type StackOutputName = keyof StackOutputs;
export const STACK_OUTPUT_NAMES = Object.keys(stackOutputsSchema.shape) as StackOutputName[];

/** What the program exports: each output, known now or once the resource is created. */
export type StackOutputValues = { [K in StackOutputName]-?: pulumi.Input<StackOutputs[K]> };

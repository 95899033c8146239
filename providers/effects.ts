/**
 * The pipeline's real effects (pipeline.ts takes them injected): the aoconnect client for the
 * endpoints and wallet, retries that log each retry, the clock and the log.
 */
import { randomUUID } from "node:crypto";
import { createAoClient } from "./aoClient";
import { log } from "./log";
import type { PipelineEnv } from "./pipeline";
import { withRetry } from "./retry";
import type { Endpoints } from "./types";
import type { Jwk } from "./wallet";

/** How long a step may keep retrying. */
const STEP_RETRY_MS = 120_000;

/** How long a check made during a diff may retry: a preview must not wait on an unreachable network. */
export const CHECK_RETRY_MS = 10_000;

export function pipelineEnv(
  endpoints: Endpoints,
  wallet: Jwk | undefined,
  retryMs = STEP_RETRY_MS,
): PipelineEnv {
  return {
    client: createAoClient(endpoints, wallet),
    retry: (step, endpoint, fn) =>
      withRetry(fn, {
        step,
        endpoint,
        totalMs: retryMs,
        onRetry: (i) => log(`${i.step} at ${i.endpoint}: ${i.reason}, retrying in ${i.delayMs} ms`),
      }),
    now: () => new Date(),
    log,
  };
}

/** A new deployment's ID, tagged on its spawn and recorded by the footer. */
export const newDeploymentId = (): string => randomUUID();

/** The provider's log lines, through the engine (`pulumi up` shows them under the resource). */
import * as pulumi from "@pulumi/pulumi";

/** A log for one resource type: each line starts with its name (the local engine reads AoProcess's). */
export const logFor =
  (resource: string) =>
  (message: string): void => {
    // The SDK catches a failed log call itself; the promise only says when the engine has it.
    void pulumi.log.info(`${resource}: ${message}`);
  };

export const log = logFor("AoProcess");

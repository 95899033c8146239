/** The provider's log lines, through the engine (`pulumi up` shows them under the resource). */
import * as pulumi from "@pulumi/pulumi";

export function log(message: string): void {
  // The SDK catches a failed log call itself; the promise only says when the engine has it.
  void pulumi.log.info(`AoProcess: ${message}`);
}

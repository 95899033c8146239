/** The provider's log lines, through the engine (`pulumi up` shows them under the resource). */
import * as pulumi from "@pulumi/pulumi";

export function log(message: string): void {
  pulumi.log.info(`AoProcess: ${message}`);
}

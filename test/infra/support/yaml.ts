/**
 * YAML parsing for tests (Pulumi stack files, workflows). js-yaml 4 is already installed as a dependency of
 * @pulumi/pulumi; it should be a devDependency of its own (see the infra report). Typed here so that no
 * @types package is needed.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

const jsYaml = require("js-yaml") as { load(text: string, opts?: { filename?: string }): unknown };

export const REPO = join(__dirname, "..", "..", "..");

export function parseYaml<T = unknown>(text: string, filename?: string): T {
  return jsYaml.load(text, { filename }) as T;
}

export function readYaml<T = unknown>(relativePath: string): T {
  const file = join(REPO, relativePath);
  return parseYaml<T>(readFileSync(file, "utf8"), file);
}

/**
 * How a failed local-engine run reads: one line per problem, naming it and the fix, and the stack
 * trace only with --verbose. Without the Pulumi CLI, a fix written as a `pulumi` command is rewritten
 * as what to do instead: the edit to make in `Pulumi.<stack>.yaml`, or, for a secret (which must never
 * be written there in plain text), the environment variable that provides it.
 */

/** Secrets the program also takes from the environment (see infra/config.ts, providers/wallet.ts). */
const SECRET_FROM_ENV: Record<string, string> = {
  wallet:
    "export AO_WALLET_FILE=<path of the wallet JSON> (never in Pulumi.<stack>.yaml: it would be plain text)",
  githubToken: "export GITHUB_TOKEN=<token> (never in Pulumi.<stack>.yaml: it would be plain text)",
};

const unquote = (v: string) => v.replace(/^"(.*)"$/, "$1");

/** Rewrites `pulumi config set|rm ... --stack S` commands in `text` as edits of Pulumi.S.yaml. */
export function configFixAsYamlEdit(text: string): string {
  return text
    .replace(
      /pulumi config set --secret (\S+?):(\S+) (?:"[^"]*"|<[^>]*>|\S+)(?: --stack ([A-Za-z0-9_-]+))?/g,
      (_m, _ns: string, key: string, stack: string | undefined) =>
        (
          SECRET_FROM_ENV[key] ??
          "export the value in the environment, or use the Pulumi CLI's encrypted config"
        ).replace("<stack>", stack ?? "<stack>"),
    )
    .replace(
      /pulumi config set (\S+) ("[^"]*"|<[^>]*>|\S+) --stack ([A-Za-z0-9_-]+)/g,
      (_m, key: string, value: string, stack: string) =>
        `in Pulumi.${stack}.yaml, under \`config:\`, set \`${key}: ${unquote(value)}\``,
    )
    .replace(
      /pulumi config rm (\S+) --stack ([A-Za-z0-9_-]+)/g,
      (_m, key: string, stack: string) => `delete the line \`${key}: ...\` from Pulumi.${stack}.yaml`,
    )
    .replace(/`pulumi up`/g, "`npm run deploy:dev`");
}

export interface FailureStyle {
  verbose: boolean;
  /** Whether fixes must be shown without the Pulumi CLI. */
  withoutCli: boolean;
}

/** The lines to print for a failure: `error: ...` for the first, the rest indented. */
export function formatFailure(err: unknown, style: FailureStyle): string {
  const e = err instanceof Error ? err : new Error(String(err));
  // A gRPC error from the provider host reads `<method>: <the provider's message>`.
  let text =
    e.name === "DynamicHostError" ? ((e as Error & { details?: string }).details ?? e.message) : e.message;
  if (style.withoutCli) text = configFixAsYamlEdit(text);
  const lines = text
    .split("\n")
    .map((l) => l.trimEnd())
    .filter(Boolean);
  const out = [`error: ${lines[0] ?? e.name}`, ...lines.slice(1).map((l) => `  ${l.trimStart()}`)];
  if (style.verbose && e.stack) out.push(e.stack);
  return out.join("\n");
}

/**
 * Errors for code that runs inside the dynamic-provider host. Not `class X extends Error`: Pulumi's
 * closure serializer turns a class into a function calling `Error.call(this, message)`, which leaves
 * the instance without its message (seen: "[object Object]"). Plain Errors with a name and fields
 * survive serialization; recognise them by `name` (isError), not instanceof.
 */
export type NamedError<T extends object = object> = Error & T;

export function namedError<T extends object>(name: string, message: string, fields?: T): NamedError<T> {
  const e = new Error(message) as NamedError<T>;
  e.name = name;
  if (fields) Object.assign(e, fields);
  return e;
}

export const isError = (err: unknown, name: string): boolean =>
  typeof err === "object" && err !== null && (err as { name?: unknown }).name === name;

/** An HTTP failure with its status, so the retry helper can classify it. */
export const httpStatusError = (status: number, message: string) =>
  namedError("HttpStatusError", message, { status });

export const noWalletError = () =>
  new Error(
    "this AO call needs the wallet (stack config secret <project>:wallet, AO_WALLET_JWK, ARWEAVE_WALLET_JWK or AO_WALLET_FILE)",
  );

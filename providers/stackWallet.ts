/**
 * The deploying wallet at call time: the stack config secret `<project>:wallet` that the
 * dynamic-provider host hands to `configure`, else the environment (wallet.ts reads both). The config
 * object is only a reference kept by the Provider; the value is read when create/update needs it.
 */
import * as pulumi from "@pulumi/pulumi";
import { hostError } from "./hostError";
import { type ConfigWallet, type Jwk, readWallet, WALLET_CONFIG_KEY } from "./wallet";

/** `<project>:wallet` from the stack config the host gave `configure`. */
export function configWallet(config: pulumi.dynamic.Config | undefined): ConfigWallet {
  const key = `${pulumi.getProject()}:${WALLET_CONFIG_KEY}`;
  let value: unknown;
  try {
    value = config?.get(WALLET_CONFIG_KEY);
  } catch {
    value = undefined; // the host was never sent a Configure: no stack config
  }
  // The engine sends config values as strings; a structured value would be an object.
  return { key, value: typeof value === "string" || value === undefined ? value : JSON.stringify(value) };
}

/** The wallet from stack config or the environment; throws a WalletError naming both. */
export function stackWallet(config: pulumi.dynamic.Config | undefined): Jwk {
  return readWallet(process.env, configWallet(config));
}

/** The wallet when one is configured, else undefined (a preview without secrets). */
export function optionalStackWallet(config: pulumi.dynamic.Config | undefined): Jwk | undefined {
  try {
    return stackWallet(config);
  } catch {
    return undefined;
  }
}

/** Runs `fn` with the stack's wallet; any error leaves redacted and bounded (hostError.ts). */
export async function withStackWallet<T>(
  config: pulumi.dynamic.Config | undefined,
  fn: (wallet: Jwk) => Promise<T>,
): Promise<T> {
  let wallet: Jwk | undefined;
  try {
    wallet = stackWallet(config);
    return await fn(wallet);
  } catch (err) {
    throw hostError(err, wallet);
  }
}

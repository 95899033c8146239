/**
 * Pulumi's passphrase secrets provider, as far as the dev stack needs it: the `encryptionsalt` a stack
 * settings file carries (`v1:<salt>:v1:<nonce>:<AES-256-GCM("pulumi")>`, key = PBKDF2-SHA256(passphrase,
 * salt, 1,000,000 iterations, 32 bytes); pkg/secrets/passphrase in pulumi/pulumi).
 *
 * `Pulumi.dev.yaml` carries a salt made from DEV_PASSPHRASE so that `pulumi stack init dev` never has to
 * rewrite a tracked file; a test checks that the committed salt opens with it.
 */
import { createCipheriv, createDecipheriv, pbkdf2Sync, randomBytes } from "node:crypto";

/** The dev stack's passphrase. Public on purpose: the dev stack holds no real secret. */
export const DEV_PASSPHRASE = "agent-skills-registry-dev-only";

const ITERATIONS = 1_000_000;

function keyFor(passphrase: string, salt: Buffer): Buffer {
  return pbkdf2Sync(passphrase, salt, ITERATIONS, 32, "sha256");
}

/** A new `encryptionsalt` value for `passphrase`. */
export function makeEncryptionSalt(passphrase: string): string {
  const salt = randomBytes(8);
  const nonce = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", keyFor(passphrase, salt), nonce);
  const sealed = Buffer.concat([cipher.update("pulumi", "utf8"), cipher.final(), cipher.getAuthTag()]);
  return `v1:${salt.toString("base64")}:v1:${nonce.toString("base64")}:${sealed.toString("base64")}`;
}

/** Whether `passphrase` opens `state` (an `encryptionsalt` value), as `pulumi` checks it. */
export function passphraseOpens(passphrase: string, state: string): boolean {
  const parts = state.split(":");
  if (parts.length !== 5 || parts[0] !== "v1" || parts[2] !== "v1") return false;
  const [, salt, , nonce, sealed] = parts as [string, string, string, string, string];
  try {
    const data = Buffer.from(sealed, "base64");
    const decipher = createDecipheriv(
      "aes-256-gcm",
      keyFor(passphrase, Buffer.from(salt, "base64")),
      Buffer.from(nonce, "base64"),
    );
    decipher.setAuthTag(data.subarray(data.length - 16));
    const plain = Buffer.concat([decipher.update(data.subarray(0, data.length - 16)), decipher.final()]);
    return plain.toString("utf8") === "pulumi";
  } catch {
    return false;
  }
}

if (require.main === module) {
  process.stdout.write(`${makeEncryptionSalt(process.argv[2] ?? DEV_PASSPHRASE)}\n`);
}

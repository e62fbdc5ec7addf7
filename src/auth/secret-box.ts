import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Provider keys at rest: AES-256-GCM under a master key from the environment. The stored form is
 * `v1.<iv>.<tag>.<ciphertext>` (base64url). The provider id is authenticated data, so a ciphertext copied onto
 * another provider's row fails to open instead of handing that provider someone else's key.
 */
export interface SecretBox {
  seal(plaintext: string, context: string): string;
  /** Throws when the ciphertext was altered, belongs to another context, or was sealed under another key. */
  open(sealed: string, context: string): string;
}

const VERSION = 'v1';

/** Decodes a master key: 32 bytes, given as base64 (or base64url). */
export function parseMasterKey(text: string): Buffer {
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== 32) throw new Error('must be 32 bytes, base64-encoded (e.g. `openssl rand -base64 32`)');
  return key;
}

function openWith(key: Buffer, sealed: string, context: string): string {
  const [version, iv, tag, data] = sealed.split('.');
  if (version !== VERSION || iv === undefined || tag === undefined || data === undefined) throw new Error('not a sealed secret');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAAD(Buffer.from(context, 'utf8'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
}

/** `previous` keys still open old ciphertexts, so the master key can be rotated without losing stored keys. */
export function createSecretBox(masterKey: Buffer, previous: Buffer[] = []): SecretBox {
  return {
    seal(plaintext, context) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', masterKey, iv);
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return [VERSION, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), data.toString('base64url')].join('.');
    },
    open(sealed, context) {
      let firstError: unknown;
      for (const key of [masterKey, ...previous]) {
        try {
          return openWith(key, sealed, context);
        } catch (error) {
          firstError ??= error;
        }
      }
      throw new Error('the stored secret cannot be opened with the master key (altered, moved to another provider, or sealed under another key)', { cause: firstError });
    },
  };
}

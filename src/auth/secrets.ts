import { createHash, randomBytes } from 'node:crypto';

/** Recognizable in logs, config files and secret scanners. */
export const KEY_PREFIX = 'sb-';

export interface GeneratedKey {
  /** Shown once, never stored. */
  secret: string;
  /** Enough to tell keys apart in a list, too little to guess the rest. */
  prefix: string;
  hash: string;
}

/**
 * SHA-256 without a salt is enough here: the secret is 32 random bytes, so there is no dictionary to attack,
 * and an unsalted hash lets us find the key with one indexed lookup.
 */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function generateApiKey(): GeneratedKey {
  const secret = KEY_PREFIX + randomBytes(32).toString('base64url');
  return { secret, prefix: secret.slice(0, KEY_PREFIX.length + 8), hash: hashSecret(secret) };
}

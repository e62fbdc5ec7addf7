import { randomBytes } from 'node:crypto';

/** Ids that sort by creation time (so the ledger pages in time order) and cannot be guessed. */
export function newId(prefix: string, now = Date.now()): string {
  return `${prefix}_${now.toString(36).padStart(9, '0')}${randomBytes(10).toString('base64url')}`;
}

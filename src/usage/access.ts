import type { Viewer } from '../auth/viewer.js';
import type { GenerationRow } from '../db/schema.js';
import { ForbiddenError } from '../errors.js';

/** Which generations a caller may read: all of them, or one key's. */
export type LedgerScope = { kind: 'all' } | { kind: 'key'; apiKeyId: string };

/**
 * The one decision behind which rows a ledger read (generation, generations, usage, usageEvents) returns: an admin
 * sees every generation; a caller with a key sees its own key's; anyone else nothing. Whether the caller may read
 * the ledger at all (the READ scope) is the schema's authScopes check, made before any of these fields resolve.
 */
export function ledgerScope(viewer: Viewer): LedgerScope {
  if (viewer.isAdmin) return { kind: 'all' };
  if (viewer.apiKeyId !== null) return { kind: 'key', apiKeyId: viewer.apiKeyId };
  throw new ForbiddenError('Reading the ledger needs an admin key or a gateway key');
}

/** A key-scoped caller may only filter within its own key. */
export function scopedKeyFilter(scope: LedgerScope, requested: string | undefined): string | undefined {
  if (scope.kind === 'all') return requested;
  if (requested !== undefined && requested !== scope.apiKeyId) throw new ForbiddenError('A key can only read its own generations');
  return scope.apiKeyId;
}

export function canSee(scope: LedgerScope, row: Pick<GenerationRow, 'apiKeyId'>): boolean {
  return scope.kind === 'all' || row.apiKeyId === scope.apiKeyId;
}

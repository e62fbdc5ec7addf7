import type { Viewer } from '../auth/viewer.js';
import type { GenerationRow } from '../db/schema.js';
import { ForbiddenError } from '../errors.js';

/** Which generations a caller may read: all of them, or one key's. */
export type LedgerScope = { kind: 'all' } | { kind: 'key'; apiKeyId: string };

/**
 * The one decision behind every ledger read (generation, generations, usage, usageEvents): an admin sees every
 * generation; a caller with a key sees its own key's; anyone else nothing. Today every authenticated caller is
 * admin; when keys with scopes land, a key's caller gets its own view through here without touching the fields.
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

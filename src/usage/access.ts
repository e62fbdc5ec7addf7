import type { Viewer } from '../auth/viewer.js';
import type { GenerationRow } from '../db/schema.js';
import { ForbiddenError } from '../errors.js';
import { genericProviderMessage } from '../providers/errors.js';

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

/** Error codes whose ledger message may quote an upstream: provider failures and their timeouts. */
const UPSTREAM_ERROR_CODES = new Set(['PROVIDER_ERROR', 'TIMEOUT']);

/**
 * A recorded error message as this viewer may read it. The ledger stores the upstream's (redacted) words for admins;
 * a key without ADMIN reads a generic message naming the provider and status for provider failures, and every
 * other message (cancelled, hedge lost, internal) as it is.
 */
export function ledgerErrorMessage(
  viewer: Pick<Viewer, 'isAdmin'>,
  recorded: { errorCode?: string | null | undefined; errorMessage?: string | null | undefined; providerId?: string | null | undefined; httpStatus?: number | null | undefined },
): string | null {
  const message = recorded.errorMessage ?? null;
  if (message === null || viewer.isAdmin || !UPSTREAM_ERROR_CODES.has(recorded.errorCode ?? '')) return message;
  return genericProviderMessage(recorded.providerId ?? 'the provider', { status: recorded.httpStatus ?? undefined, ...(recorded.errorCode === 'TIMEOUT' ? { kind: 'timeout' as const } : {}) });
}

import type { Context } from '../context.js';
import { requireScope } from '../auth/scopes.js';

/**
 * The one check every admin-only field makes, kept in one place so that scope-based auth can replace it without
 * touching the fields.
 */
export function requireAdmin(context: Pick<Context, 'viewer'>): void {
  requireScope(context.viewer, 'ADMIN');
}

/** Records an admin change in the audit trail with the acting key; secret fields are dropped by the trail itself. */
export function auditChange(
  context: Pick<Context, 'viewer' | 'services'>,
  action: string,
  targetType: string,
  targetId: string,
  before: object | null | undefined,
  after: object | null | undefined,
): void {
  context.services.audit?.({
    actorKeyId: context.viewer.apiKeyId,
    action,
    targetType,
    targetId,
    before: before ? { ...before } : null,
    after: after ? { ...after } : null,
  });
}

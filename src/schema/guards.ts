import type { Context } from '../context.js';
import { requireScope } from '../auth/scopes.js';

/**
 * The one check every admin-only field makes, kept in one place so that scope-based auth can replace it without
 * touching the fields.
 */
export function requireAdmin(context: Pick<Context, 'viewer'>): void {
  requireScope(context.viewer, 'ADMIN');
}

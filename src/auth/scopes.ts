import type { Scope } from '../db/schema.js';
import { ForbiddenError } from '../errors.js';
import type { Viewer } from './viewer.js';

/** ADMIN implies every other scope. The GraphQL schema (scope-auth) and the REST facade both ask this. */
export function hasScope(viewer: Viewer, scope: Scope): boolean {
  return viewer.scopes.has('ADMIN') || viewer.scopes.has(scope);
}

export function requireScope(viewer: Viewer, scope: Scope): void {
  if (!hasScope(viewer, scope)) throw new ForbiddenError(`This key lacks the ${scope} scope`);
}

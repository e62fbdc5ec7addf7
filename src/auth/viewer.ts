import { createHash, timingSafeEqual } from 'node:crypto';
import type { Viewer } from '../context.js';
import { UnauthenticatedError } from '../errors.js';

/** The bearer token of an `Authorization` header (or graphql-ws connectionParams.authorization). */
export function bearerToken(authorization: unknown): string | undefined {
  if (typeof authorization !== 'string') return undefined;
  const match = /^Bearer\s+(.+)$/i.exec(authorization.trim());
  return match?.[1]?.trim();
}

function sameSecret(a: string, b: string): boolean {
  // Hashing first makes the comparison constant-time whatever the lengths.
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

export interface Authenticator {
  authenticate(authorization: unknown): Viewer;
}

/**
 * Open local mode (no admin key): everyone is admin, whatever token an SDK insists on sending.
 * With an admin key: the admin key is required.
 */
export function createAuthenticator(adminKey: string | undefined): Authenticator {
  return {
    authenticate(authorization) {
      if (adminKey === undefined) return { apiKeyId: null, isAdmin: true };
      const token = bearerToken(authorization);
      if (token === undefined) throw new UnauthenticatedError('Missing API key: send Authorization: Bearer <key>');
      if (sameSecret(token, adminKey)) return { apiKeyId: null, isAdmin: true };
      throw new UnauthenticatedError('Invalid API key');
    },
  };
}

import { createHash, timingSafeEqual } from 'node:crypto';
import { systemClock, type Clock } from '../clock.js';
import { findApiKeyByHash, touchApiKey } from '../db/api-keys.js';
import type { Db } from '../db/client.js';
import type { KeyLookup } from './key-cache.js';
import { scopes as allScopes, type ApiKeyRow, type Scope } from '../db/schema.js';
import { UnauthenticatedError } from '../errors.js';

/** Who is calling, the same for HTTP, SSE, WebSocket and REST. */
export interface Viewer {
  /** The calling key; null for the bootstrap admin key and in open local mode. */
  apiKeyId: string | null;
  isAdmin: boolean;
  scopes: ReadonlySet<Scope>;
  key: ApiKeyRow | null;
}

const ADMIN_VIEWER: Viewer = { apiKeyId: null, isAdmin: true, scopes: new Set(allScopes), key: null };

/** The bearer token of an `Authorization` header (or graphql-ws connectionParams.authorization). */
export function bearerToken(authorization: unknown): string | undefined {
  if (typeof authorization !== 'string') return undefined;
  const match = /^Bearer\s+(.+)$/i.exec(authorization.trim());
  return match?.[1]?.trim();
}

/** A secret's SHA-256: compared in constant time with the admin key's, and (as hex) what a key is stored by. */
interface Hashed {
  digest: Buffer;
  hex: string;
}

function hashed(secret: string): Hashed {
  const digest = createHash('sha256').update(secret).digest();
  return { digest, hex: digest.toString('hex') };
}

export interface Authenticator {
  /** Throws UnauthenticatedError for a missing, unknown, revoked or expired key. */
  authenticate(authorization: unknown): Viewer;
  readonly openMode: boolean;
}

/** last_used_at is for humans: writing it once a minute per key is plenty and keeps a write off the hot path. */
const TOUCH_INTERVAL_MS = 60_000;
const MAX_REMEMBERED_HASHES = 4096;

/**
 * Open local mode (no admin key): everyone is admin, whatever token an SDK insists on sending.
 * Otherwise the bootstrap admin key or a gateway key: from the instance's key cache (src/auth/key-cache.ts, no
 * query per request; a revocation through this instance is seen by its next request, through another instance
 * when the change feed or the cache's maximum age brings it), or straight from a SQLite database. Expiry and
 * revocation times are compared with the clock on every request.
 */
export function createAuthenticator(source: Db | KeyLookup, adminKey: string | undefined, clock: Pick<Clock, 'now'> = systemClock): Authenticator {
  const touched = new Map<string, number>();
  /**
   * The hash of each secret that named a key, so a caller's repeated requests (and every subscription of a
   * WebSocket) skip SHA-256. Only secrets that matched a key are kept, so unknown tokens cannot fill it; bounded, and
   * emptied whole when full, which costs a hash per caller once. A revoked or expired key is still refused below: the
   * row is looked up by hash on every request.
   */
  const hashes = new Map<string, Hashed>();
  // Comparing digests makes the comparison constant-time whatever the lengths.
  const adminDigest = adminKey === undefined ? undefined : hashed(adminKey).digest;
  const keys: KeyLookup =
    'byHash' in source ? source : { byHash: (hash) => findApiKeyByHash(source, hash), touch: (id, at) => touchApiKey(source, id, at) };
  return {
    openMode: adminKey === undefined,
    authenticate(authorization) {
      if (adminKey === undefined) return ADMIN_VIEWER;
      const token = bearerToken(authorization);
      if (token === undefined) throw new UnauthenticatedError('Missing API key: send Authorization: Bearer <key>');
      const known = hashes.get(token);
      const hash = known ?? hashed(token);
      const remember = (): void => {
        if (known !== undefined) return;
        if (hashes.size >= MAX_REMEMBERED_HASHES) hashes.clear();
        hashes.set(token, hash);
      };
      if (adminDigest !== undefined && timingSafeEqual(hash.digest, adminDigest)) {
        remember();
        return ADMIN_VIEWER;
      }
      const key = keys.byHash(hash.hex);
      if (!key) throw new UnauthenticatedError('Invalid API key');
      remember();
      const at = clock.now();
      if (key.revokedAt !== null && key.revokedAt <= at) throw new UnauthenticatedError('This API key has been revoked');
      if (key.expiresAt !== null && key.expiresAt <= at) throw new UnauthenticatedError('This API key has expired');
      if ((touched.get(key.id) ?? 0) + TOUCH_INTERVAL_MS <= at) {
        touched.set(key.id, at);
        keys.touch(key.id, at);
      }
      return { apiKeyId: key.id, isAdmin: key.scopes.includes('ADMIN'), scopes: new Set(key.scopes), key };
    },
  };
}

import { newId } from '../ids.js';
import type { AuditEntry } from '../db/audit.js';
import { findApiKeyByHash, insertApiKey } from '../db/api-keys.js';
import type { Db } from '../db/client.js';
import type { KeyStore } from '../db/storage.js';
import type { ApiKeyRow, BudgetPeriod, Scope } from '../db/schema.js';
import { MAX_CACHE_TTL_SECONDS } from '../cache/response-cache.js';
import { BadRequestError } from '../errors.js';
import { usdToPicos } from '../money.js';
import { generateApiKey, hashSecret, KEY_PREFIX, type GeneratedKey } from './secrets.js';

/**
 * Gateway key administration: creation and revocation, each recorded in the audit trail. Every transport that
 * manages keys (today the GraphQL schema) calls these, so the rules for a valid key live here and nowhere else.
 */
export interface KeyServiceDeps {
  keys: Pick<KeyStore, 'insert' | 'find' | 'findByHash' | 'revoke'>;
  /** The audit trail; absent where it is not wired (some tests). */
  audit?: ((entry: AuditEntry) => Promise<void>) | undefined;
  /** Called after a committed change: announces it on the change feed and waits until this instance's key cache has it. */
  changed?: (() => Promise<void>) | undefined;
  now?: () => number;
}

/** What a caller asks for; absent and null both mean "not set", as GraphQL hands them over. */
export interface NewApiKey {
  name: string;
  scopes: readonly Scope[];
  allowedModels?: readonly string[] | null | undefined;
  rateLimit?: { requestsPerMinute?: number | null | undefined; tokensPerMinute?: number | null | undefined; concurrentStreams?: number | null | undefined } | null | undefined;
  budget?: { limitUsd: number; period?: BudgetPeriod | null | undefined } | null | undefined;
  expiresAt?: Date | null | undefined;
  metadata?: unknown;
  /** The response cache TTL for this key's requests that set none; null or absent: they are not cached. */
  cacheTtlSeconds?: number | null | undefined;
}

export interface CreatedApiKey {
  key: ApiKeyRow;
  /** The key itself: returned once, never stored (only its hash is). */
  secret: string;
}

function positive(value: number | null | undefined, field: string): number | null {
  if (value === null || value === undefined) return null;
  if (!Number.isInteger(value) || value < 1) throw new BadRequestError(`${field} must be a positive integer`, field);
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What the audit trail keeps of a key: everything but the hash of its secret. */
function redactKey(key: ApiKeyRow): Record<string, unknown> {
  const { secretHash: _secretHash, ...rest } = key;
  return rest;
}

async function recordKeyAudit(deps: KeyServiceDeps, actorKeyId: string | null, action: string, key: ApiKeyRow, before: ApiKeyRow | null): Promise<void> {
  await deps.audit?.({ actorKeyId, action, targetType: 'api_key', targetId: key.id, before: before ? redactKey(before) : null, after: redactKey(key) });
}

/** Validates the request, stores the key's hash and returns the secret, which exists nowhere else afterwards. */
export async function createApiKey(deps: KeyServiceDeps, input: NewApiKey, actorKeyId: string | null, generated: GeneratedKey = generateApiKey()): Promise<CreatedApiKey> {
  const key = newApiKeyRow(input, generated, (deps.now ?? Date.now)());
  await deps.keys.insert(key);
  await deps.changed?.();
  await recordKeyAudit(deps, actorKeyId, 'api_key.create', key, null);
  return { key, secret: generated.secret };
}

/** The row a valid request becomes; throws BadRequestError naming the field of an invalid one. */
export function newApiKeyRow(input: NewApiKey, generated: GeneratedKey, now: number): ApiKeyRow {
  const name = input.name.trim();
  if (name === '') throw new BadRequestError('name must not be empty', 'name');
  if (input.scopes.length === 0) throw new BadRequestError('scopes must name at least one scope', 'scopes');
  if (input.budget && !(input.budget.limitUsd >= 0)) throw new BadRequestError('budget.limitUsd must be zero or more', 'budget.limitUsd');
  if (input.metadata != null && !isObject(input.metadata)) throw new BadRequestError('metadata must be a JSON object', 'metadata');
  const cacheTtl = input.cacheTtlSeconds ?? null;
  if (cacheTtl !== null && !(Number.isInteger(cacheTtl) && cacheTtl >= 0 && cacheTtl <= MAX_CACHE_TTL_SECONDS)) {
    throw new BadRequestError(`cacheTtlSeconds must be a whole number of seconds from 0 to ${MAX_CACHE_TTL_SECONDS}`, 'cacheTtlSeconds');
  }
  if (input.expiresAt && input.expiresAt.getTime() <= now) throw new BadRequestError('expiresAt must be in the future', 'expiresAt');
  return {
    id: newId('key', now),
    name,
    prefix: generated.prefix,
    secretHash: generated.hash,
    scopes: [...new Set(input.scopes)],
    allowedModels: input.allowedModels ? [...input.allowedModels] : null,
    requestsPerMinute: positive(input.rateLimit?.requestsPerMinute, 'rateLimit.requestsPerMinute'),
    tokensPerMinute: positive(input.rateLimit?.tokensPerMinute, 'rateLimit.tokensPerMinute'),
    concurrentStreams: positive(input.rateLimit?.concurrentStreams, 'rateLimit.concurrentStreams'),
    // Dollars to pico-dollars through the same exact conversion prices use (dollars per million = micros).
    budgetLimitPicos: input.budget ? usdToPicos(input.budget.limitUsd) : null,
    budgetPeriod: input.budget?.period ?? null,
    metadata: isObject(input.metadata) ? input.metadata : null,
    cacheTtlSeconds: cacheTtl === 0 ? null : cacheTtl,
    expiresAt: input.expiresAt ? input.expiresAt.getTime() : null,
    revokedAt: null,
    createdAt: now,
    lastUsedAt: null,
  };
}

/**
 * A key declared in the config file, its secret read from the environment: stored hashed like every other key, the
 * first time its secret is seen. A secret already stored keeps its row (and its spend, usage and revocation), so a
 * restart or a reload does not mint a second key for it. Returns the new row, or undefined when it existed.
 */
export async function ensureBootstrapKey(deps: KeyServiceDeps, input: NewApiKey, secret: string): Promise<ApiKeyRow | undefined> {
  const generated = declaredKey(secret);
  if (await deps.keys.findByHash(generated.hash)) return undefined;
  return (await createApiKey(deps, input, null, generated)).key;
}

/**
 * ensureBootstrapKey on a SQLite database, synchronously: start-up on SQLite applies the config file inside
 * buildApp, so a key the file declares wrongly stops it there, naming the entry.
 */
export function ensureBootstrapKeySync(db: Db, audit: ((entry: AuditEntry) => unknown) | undefined, input: NewApiKey, secret: string): ApiKeyRow | undefined {
  const generated = declaredKey(secret);
  if (findApiKeyByHash(db, generated.hash)) return undefined;
  const key = newApiKeyRow(input, generated, Date.now());
  insertApiKey(db, key);
  audit?.({ actorKeyId: null, action: 'api_key.create', targetType: 'api_key', targetId: key.id, before: null, after: redactKey(key) });
  return key;
}

/** A secret the config file declares; the prefix shown in lists is its head, as long as a generated key's. */
function declaredKey(secret: string): GeneratedKey {
  return { secret, prefix: secret.slice(0, KEY_PREFIX.length + 8), hash: hashSecret(secret) };
}

/** Revokes a key from now on; revoking a revoked key keeps its first revocation time. */
export async function revokeApiKey(deps: KeyServiceDeps, id: string, actorKeyId: string | null): Promise<ApiKeyRow> {
  const before = await deps.keys.find(id);
  if (!before) throw new BadRequestError(`No API key '${id}'`, 'id');
  const key = before.revokedAt === null ? await deps.keys.revoke(before.id, (deps.now ?? Date.now)()) : before;
  if (!key) throw new BadRequestError(`No API key '${id}'`, 'id');
  await deps.changed?.();
  await recordKeyAudit(deps, actorKeyId, 'api_key.revoke', key, before);
  return key;
}

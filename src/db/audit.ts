import { and, asc, count, desc, eq, gt, gte, lt, type SQL } from 'drizzle-orm';
import { newId } from '../ids.js';
import type { Db } from './client.js';
import { auditLog, type AuditRow } from './schema.js';

/** `<target type>.<verb>`, e.g. `api_key.create`, `api_key.revoke`, `model.update`. */
export type AuditAction = string;
/** The usual targets, offered by autocompletion; a new admin mutation may add its own. */
export type AuditTargetType = 'api_key' | 'provider' | 'model' | 'model_endpoint' | (string & {});

export interface AuditEntry {
  /** The acting key's id; null for the bootstrap admin key and open local mode (`context.viewer.apiKeyId`). */
  actorKeyId: string | null;
  action: AuditAction;
  targetType: AuditTargetType;
  targetId: string;
  /** The target before the change; null when it was created. */
  before?: Record<string, unknown> | null;
  /** The target after the change; null when it was deleted. */
  after?: Record<string, unknown> | null;
}

/** Db or the `tx` of db.transaction(), so a change and its audit row commit together. */
export type AuditWriter = Pick<Db, 'insert'>;

/** Field names never written to the audit trail, wherever they sit in `before`/`after`. */
const SECRET_FIELDS = new Set(['secret', 'secretHash', 'secret_hash', 'apiKey', 'api_key', 'apiKeyCiphertext', 'api_key_ciphertext', 'authorization', 'password', 'token']);

function withoutSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutSecrets);
  if (typeof value !== 'object' || value === null) return value;
  if (value instanceof Date) return value.toISOString();
  return Object.fromEntries(Object.entries(value).filter(([key]) => !SECRET_FIELDS.has(key)).map(([key, item]) => [key, withoutSecrets(item)]));
}

function snapshot(value: Record<string, unknown> | null | undefined): Record<string, unknown> | null {
  return value ? (withoutSecrets(value) as Record<string, unknown>) : null;
}

/**
 * Records one admin change. Pass the row as it was and as it is: secret fields (a key's hash, a provider's key)
 * are dropped, so callers can hand over whole rows. Call it inside the mutation's transaction when there is one.
 */
export function recordAudit(db: AuditWriter, entry: AuditEntry, now: number = Date.now()): AuditRow {
  const row = auditRow(entry, now);
  db.insert(auditLog).values(row).run();
  return row;
}

/** The row an audit entry becomes, secrets dropped; every dialect's store writes this. */
export function auditRow(entry: AuditEntry, now: number): AuditRow {
  return {
    id: newId('aud', now),
    actorKeyId: entry.actorKeyId,
    action: entry.action,
    targetType: entry.targetType,
    targetId: entry.targetId,
    before: snapshot(entry.before),
    after: snapshot(entry.after),
    createdAt: now,
  };
}

export interface AuditFilter {
  targetType?: string;
  targetId?: string;
  /** Unix milliseconds, inclusive. */
  from?: number;
  /** Unix milliseconds, exclusive. */
  to?: number;
}

export interface AuditPage {
  limit: number;
  /** Entries older than this id (the next page, newest first). */
  olderThan?: string;
  /** Entries newer than this id (the previous page). */
  newerThan?: string;
  /** Oldest first, for `last`: the connection helper reverses them back. */
  oldestFirst?: boolean;
}

/** Newest first; ids sort by time, so the id is the cursor. */
export function listAudit(db: Db, filter: AuditFilter, page: AuditPage): AuditRow[] {
  const conditions = filterConditions(filter);
  if (page.olderThan !== undefined) conditions.push(lt(auditLog.id, page.olderThan));
  if (page.newerThan !== undefined) conditions.push(gt(auditLog.id, page.newerThan));
  return db
    .select()
    .from(auditLog)
    .where(conditions.length > 0 ? and(...conditions) : undefined)
    .orderBy(page.oldestFirst ? asc(auditLog.id) : desc(auditLog.id))
    .limit(page.limit)
    .all();
}

function filterConditions(filter: AuditFilter): SQL[] {
  const conditions: SQL[] = [];
  if (filter.targetType !== undefined) conditions.push(eq(auditLog.targetType, filter.targetType));
  if (filter.targetId !== undefined) conditions.push(eq(auditLog.targetId, filter.targetId));
  if (filter.from !== undefined) conditions.push(gte(auditLog.createdAt, filter.from));
  if (filter.to !== undefined) conditions.push(lt(auditLog.createdAt, filter.to));
  return conditions;
}

/** The entries listAudit pages through, all pages together. */
export function countAudit(db: Db, filter: AuditFilter): number {
  const conditions = filterConditions(filter);
  return db.select({ count: count() }).from(auditLog).where(conditions.length > 0 ? and(...conditions) : undefined).get()?.count ?? 0;
}

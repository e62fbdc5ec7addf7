import { afterEach, describe, expect, it } from 'vitest';
import { createApiKey, revokeApiKey, type KeyServiceDeps } from '../../src/auth/keys.js';
import { hashSecret } from '../../src/auth/secrets.js';
import type { AuditEntry } from '../../src/db/audit.js';
import { findApiKey } from '../../src/db/api-keys.js';
import { openDatabase, type DatabaseHandle } from '../../src/db/client.js';
import { BadRequestError } from '../../src/errors.js';
import { createSqliteStorage } from '../../src/db/sqlite-storage.js';
import { rejection } from '../helpers/errors.js';

async function refusal(promise: Promise<unknown>): Promise<BadRequestError> {
  const error = await rejection(promise);
  if (error instanceof BadRequestError) return error;
  throw error;
}

/** The key service on its own: no HTTP, no GraphQL, an in-memory database and a fixed clock. */
const opened: DatabaseHandle[] = [];
afterEach(() => {
  for (const handle of opened.splice(0)) handle.close();
});

function setup(): { deps: KeyServiceDeps; audit: AuditEntry[]; db: DatabaseHandle['db'] } {
  const audit: AuditEntry[] = [];
  const handle = openDatabase(':memory:');
  opened.push(handle);
  return {
    deps: {
      keys: createSqliteStorage(handle).keys,
      audit: async (entry) => {
        audit.push(entry);
      },
      now: () => Date.UTC(2026, 10, 30),
    },
    audit,
    db: handle.db,
  };
}


describe('key service', () => {
  it('stores the hash, returns the secret once and audits the creation without the hash', async () => {
    const { deps, audit, db } = setup();
    const created = await createApiKey(deps, { name: '  billing ', scopes: ['READ', 'READ'], budget: { limitUsd: 2.5, period: 'DAILY' }, metadata: { team: 'x' } }, 'key_actor');
    const stored = findApiKey(db, created.key.id);
    expect(stored).toMatchObject({ name: 'billing', scopes: ['READ'], secretHash: hashSecret(created.secret), budgetLimitPicos: 2_500_000_000_000, budgetPeriod: 'DAILY', createdAt: Date.UTC(2026, 10, 30) });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actorKeyId: 'key_actor', action: 'api_key.create', targetType: 'api_key', targetId: created.key.id, before: null });
    expect(audit[0]!.after).not.toHaveProperty('secretHash');
    expect(JSON.stringify(audit)).not.toContain(created.secret);
  });

  it('refuses invalid requests with the field at fault', async () => {
    const { deps, audit } = setup();
    expect((await refusal(createApiKey(deps, { name: ' ', scopes: ['READ'] }, null))).field).toBe('name');
    expect((await refusal(createApiKey(deps, { name: 'x', scopes: [] }, null))).field).toBe('scopes');
    expect((await refusal(createApiKey(deps, { name: 'x', scopes: ['READ'], budget: { limitUsd: -1 } }, null))).field).toBe('budget.limitUsd');
    expect((await refusal(createApiKey(deps, { name: 'x', scopes: ['READ'], metadata: [1] }, null))).field).toBe('metadata');
    expect((await refusal(createApiKey(deps, { name: 'x', scopes: ['READ'], expiresAt: new Date(Date.UTC(2026, 10, 29)) }, null))).field).toBe('expiresAt');
    expect((await refusal(createApiKey(deps, { name: 'x', scopes: ['READ'], rateLimit: { requestsPerMinute: 0 } }, null))).field).toBe('rateLimit.requestsPerMinute');
    expect(audit).toEqual([]);
  });

  it('revokes once, keeps the first revocation time, and refuses an unknown id', async () => {
    const { deps, audit } = setup();
    const { key } = await createApiKey(deps, { name: 'short-lived', scopes: ['COMPLETIONS'] }, null);
    const revoked = await revokeApiKey(deps, key.id, null);
    expect(revoked.revokedAt).toBe(Date.UTC(2026, 10, 30));
    const again = await revokeApiKey({ ...deps, now: () => Date.UTC(2027, 0, 1) }, key.id, null);
    expect(again.revokedAt).toBe(Date.UTC(2026, 10, 30));
    expect(audit.map((entry) => entry.action)).toEqual(['api_key.create', 'api_key.revoke', 'api_key.revoke']);
    expect((await refusal(revokeApiKey(deps, 'key_missing', null))).field).toBe('id');
  });
});

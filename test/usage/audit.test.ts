import { describe, expect, it } from 'vitest';
import { listAudit, recordAudit } from '../../src/db/audit.js';
import { openDatabase } from '../../src/db/client.js';
import { auditLog } from '../../src/db/schema.js';

const T0 = Date.UTC(2026, 0, 1);

describe('recordAudit', () => {
  it('writes who changed what, before and after, leaving secrets out', () => {
    const database = openDatabase(':memory:');
    const entry = recordAudit(
      database.db,
      {
        actorKeyId: 'key_admin',
        action: 'provider.update',
        targetType: 'provider',
        targetId: 'openai',
        before: { baseUrl: 'https://a', apiKey: 'sk-live-secret', headers: { authorization: 'Bearer sk-live-secret', 'x-team': 'core' } },
        after: { baseUrl: 'https://b', secretHash: 'abc123' },
      },
      T0,
    );
    const [stored] = database.db.select().from(auditLog).all();
    expect(stored).toEqual(entry);
    expect(stored).toMatchObject({ actorKeyId: 'key_admin', action: 'provider.update', targetType: 'provider', targetId: 'openai', createdAt: T0 });
    expect(stored!.before).toEqual({ baseUrl: 'https://a', headers: { 'x-team': 'core' } });
    expect(stored!.after).toEqual({ baseUrl: 'https://b' });
    expect(JSON.stringify(stored)).not.toContain('sk-live-secret');
    database.close();
  });

  it('commits with the change it describes, inside its transaction', () => {
    const database = openDatabase(':memory:');
    expect(() =>
      database.db.transaction((tx) => {
        recordAudit(tx, { actorKeyId: null, action: 'model.delete', targetType: 'model', targetId: 'x/y', before: { id: 'x/y' } });
        throw new Error('the change itself failed');
      }),
    ).toThrow('the change itself failed');
    expect(database.db.select().from(auditLog).all()).toEqual([]);
    database.close();
  });

  it('lists newest first with target and time filters', () => {
    const database = openDatabase(':memory:');
    recordAudit(database.db, { actorKeyId: null, action: 'api_key.create', targetType: 'api_key', targetId: 'key_1' }, T0);
    recordAudit(database.db, { actorKeyId: null, action: 'api_key.revoke', targetType: 'api_key', targetId: 'key_1' }, T0 + 1000);
    recordAudit(database.db, { actorKeyId: null, action: 'model.update', targetType: 'model', targetId: 'a/b' }, T0 + 2000);
    expect(listAudit(database.db, {}, { limit: 10 }).map((row) => row.action)).toEqual(['model.update', 'api_key.revoke', 'api_key.create']);
    expect(listAudit(database.db, { targetType: 'api_key', targetId: 'key_1' }, { limit: 10 }).map((row) => row.action)).toEqual(['api_key.revoke', 'api_key.create']);
    expect(listAudit(database.db, { from: T0 + 1000, to: T0 + 2000 }, { limit: 10 }).map((row) => row.action)).toEqual(['api_key.revoke']);
    database.close();
  });
});

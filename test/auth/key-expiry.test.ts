import { afterEach, describe, expect, it } from 'vitest';
import { generateApiKey } from '../../src/auth/secrets.js';
import { createAuthenticator } from '../../src/auth/viewer.js';
import { ManualClock } from '../../src/clock.js';
import { insertApiKey } from '../../src/db/api-keys.js';
import { openDatabase, type DatabaseHandle } from '../../src/db/client.js';
import { UnauthenticatedError } from '../../src/errors.js';

const ADMIN = 'admin-secret-for-tests-0123456789';

describe('key expiry and revocation, on the injected clock', () => {
  const opened: DatabaseHandle[] = [];
  afterEach(() => {
    for (const database of opened.splice(0)) database.close();
  });

  function keyed(times: { expiresIn?: number; revokedIn?: number }) {
    const clock = new ManualClock();
    const database = openDatabase(':memory:');
    opened.push(database);
    const generated = generateApiKey();
    const now = clock.now();
    insertApiKey(database.db, {
      id: 'key_expiry',
      name: 'short-lived',
      prefix: generated.prefix,
      secretHash: generated.hash,
      scopes: ['COMPLETIONS'],
      allowedModels: null,
      requestsPerMinute: null,
      tokensPerMinute: null,
      concurrentStreams: null,
      budgetLimitPicos: null,
      budgetPeriod: null,
      metadata: null,
      expiresAt: times.expiresIn === undefined ? null : now + times.expiresIn,
      revokedAt: times.revokedIn === undefined ? null : now + times.revokedIn,
      createdAt: now,
      lastUsedAt: null,
      cacheTtlSeconds: null,
    });
    const authenticator = createAuthenticator(database.db, ADMIN, clock);
    return { clock, database, authenticator, authenticate: () => authenticator.authenticate(`Bearer ${generated.secret}`) };
  }

  it('accepts a key up to 1 ms before it expires and refuses it from the instant it does', async () => {
    const { clock, authenticate } = keyed({ expiresIn: 300 });
    expect(authenticate().apiKeyId).toBe('key_expiry');
    await clock.advance(299);
    expect(authenticate().apiKeyId).toBe('key_expiry');
    await clock.advance(1);
    expect(authenticate).toThrow(UnauthenticatedError);
    expect(authenticate).toThrow(/expired/);
  });

  it('refuses a key from the instant its revocation takes effect', async () => {
    const { clock, authenticate } = keyed({ revokedIn: 1_000 });
    await clock.advance(999);
    expect(authenticate().apiKeyId).toBe('key_expiry');
    await clock.advance(1);
    expect(authenticate).toThrow(/revoked/);
  });

  it('a secret whose hash was remembered is still looked up: its key deleted behind the gateway is refused', () => {
    const { database, authenticator, authenticate } = keyed({});
    expect(authenticate().apiKeyId).toBe('key_expiry');
    expect(authenticate().apiKeyId).toBe('key_expiry');
    database.sqlite.prepare('delete from api_keys').run();
    expect(authenticate).toThrow(/Invalid API key/);
    // Unknown tokens stay unknown however often they are tried; the admin key stays the admin's.
    for (let attempt = 0; attempt < 3; attempt++) expect(() => authenticator.authenticate('Bearer sk-not-a-key-0123456789')).toThrow(/Invalid API key/);
    for (let attempt = 0; attempt < 3; attempt++) expect(authenticator.authenticate(`Bearer ${ADMIN}`).isAdmin).toBe(true);
    expect(() => authenticator.authenticate(`Bearer ${ADMIN}x`)).toThrow(/Invalid API key/);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { buildApp, type App } from '../../src/app.js';
import { hashSecret } from '../../src/auth/secrets.js';
import { loadConfig } from '../../src/config.js';
import { LocalChangeFeed } from '../../src/coordination/change-feed.js';
import { readCatalogSeed } from '../../src/db/seed.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from './stores.js';

const ADMIN = 'sb-admin-storage-test-0123456789';

const databases: TestDatabase[] = [];
const apps: App[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.stop();
  for (const database of databases.splice(0)) await database.drop();
});

async function instance(database: TestDatabase, feed?: LocalChangeFeed): Promise<{ app: App; url: string }> {
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: database.url, SWITCHBOARD_ADMIN_KEY: ADMIN, SWITCHBOARD_LOCAL_DELAY_MS: '0' });
  const app = buildApp(config, { logger: pino({ level: 'silent' }), ...(feed ? { changeFeed: { feed, shared: true } } : {}) });
  apps.push(app);
  const { url } = await app.start();
  return { app, url };
}

async function graphql(url: string, query: string, variables: Record<string, unknown> = {}, key = ADMIN): Promise<{ data?: Record<string, unknown> | null; errors?: Array<{ message: string; extensions?: { code?: string } }> }> {
  const response = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify({ query, variables }) });
  return (await response.json()) as { data?: Record<string, unknown> | null; errors?: Array<{ message: string; extensions?: { code?: string } }> };
}

const CREATE_KEY = 'mutation { createApiKey(input: { name: "shared", scopes: [COMPLETIONS, READ] }) { secret apiKey { id } } }';
const REVOKE_KEY = 'mutation ($id: ID!) { revokeApiKey(id: $id) { id } }';
const COMPLETE = 'mutation { createCompletion(input: { model: "local/echo", messages: [{ role: USER, content: "hello" }] }) { id } }';
const PRICED = 'mutation { createCompletion(input: { model: "local/echo", messages: [{ role: USER, content: "hello" }] }) { usage { costUsd } } }';
const SET_PRICE = 'mutation ($price: Float!) { updateModelEndpoint(input: { provider: "local", providerModelId: "echo", promptPerMillion: $price, completionPerMillion: $price }) { id } }';
const PRICE_SEEN = '{ model(id: "local/echo") { endpoints { pricing { promptPerMillion } } } }';

/** What a completion through this instance costs: the routing snapshot's price, applied on the hot path. */
async function cost(url: string): Promise<number> {
  const body = await graphql(url, PRICED);
  const completion = body.data?.['createCompletion'] as { usage: { costUsd: number } } | undefined;
  if (!completion) throw new Error(JSON.stringify(body.errors));
  return completion.usage.costUsd;
}

async function priceShown(url: string): Promise<number | null> {
  const body = await graphql(url, PRICE_SEEN);
  const model = body.data?.['model'] as { endpoints: Array<{ pricing: { promptPerMillion: number | null } }> } | undefined;
  if (!model) throw new Error(JSON.stringify(body.errors));
  return model.endpoints[0]?.pricing.promptPerMillion ?? null;
}

async function createKey(url: string): Promise<{ secret: string; id: string }> {
  const body = await graphql(url, CREATE_KEY);
  const created = body.data?.['createApiKey'] as { secret: string; apiKey: { id: string } } | undefined;
  if (!created) throw new Error(JSON.stringify(body.errors));
  return { secret: created.secret, id: created.apiKey.id };
}

async function authenticated(url: string, secret: string): Promise<boolean> {
  const body = await graphql(url, COMPLETE, {}, secret);
  if (body.errors?.[0]?.extensions?.code === 'UNAUTHENTICATED') return false;
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return true;
}

/** Polls `check` until it holds, for at most `withinMs`; resolves with the time it took. */
async function within(withinMs: number, check: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > withinMs) throw new Error(`not within ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.each(DIALECTS)('keys, catalog and caches on %s', (dialect) => {
  it('stores keys and the seeded catalog, and a key made or revoked through one instance holds on a second sharing its feed at once', async () => {
    const database = await createTestDatabase(dialect);
    databases.push(database);
    const feed = new LocalChangeFeed();
    const a = await instance(database, feed);
    const b = await instance(database, feed);
    const storage = a.app.services.storage;
    const seed = readCatalogSeed();
    const rows = await storage.catalog.load();
    expect(rows.models.length).toBe(seed.models.length);
    expect(a.app.services.catalog.findModel(seed.models[0]!.id)?.id).toBe(seed.models[0]!.id);

    const key = await createKey(a.url);
    expect((await storage.keys.findByHash(hashSecret(key.secret)))?.id).toBe(key.id);
    expect(await authenticated(a.url, key.secret)).toBe(true);
    // The shared feed told b; its reload is one round trip, far under the 5 s an unshared instance may take.
    expect(await within(1000, () => authenticated(b.url, key.secret))).toBeLessThan(1000);

    expect((await graphql(a.url, REVOKE_KEY, { id: key.id })).errors).toBeUndefined();
    expect(await authenticated(a.url, key.secret)).toBe(false);
    expect(await within(1000, async () => !(await authenticated(b.url, key.secret)))).toBeLessThan(1000);
    expect((await storage.audit.list({ targetType: 'api_key' }, { limit: 10 })).map((entry) => entry.action)).toEqual(['api_key.revoke', 'api_key.create']);
    expect(await storage.keys.count()).toBe(1);

    // A catalog edit through a: a's next request is charged the new price, and b's within a second (the feed).
    expect(await cost(b.url)).toBe(0);
    expect((await graphql(a.url, SET_PRICE, { price: 1_000_000 })).errors).toBeUndefined();
    expect(await cost(a.url)).toBeGreaterThan(0);
    expect(await within(1000, async () => (await cost(b.url)) > 0)).toBeLessThan(1000);
    expect(await priceShown(b.url)).toBe(1_000_000);
  }, 60_000);
});

describe('PostgreSQL instances without a shared feed', () => {
  it('see another instance\u2019s key change within 5 s, and revocation on the instance that made it at once', async () => {
    const database = await createTestDatabase('postgres');
    databases.push(database);
    const a = await instance(database);
    const b = await instance(database);
    const key = await createKey(a.url);
    expect(await authenticated(a.url, key.secret)).toBe(true);
    const seenAfter = await within(5500, () => authenticated(b.url, key.secret));
    expect(seenAfter).toBeLessThanOrEqual(5500);
    expect((await graphql(a.url, REVOKE_KEY, { id: key.id })).errors).toBeUndefined();
    expect(await authenticated(a.url, key.secret)).toBe(false);
    await within(5500, async () => !(await authenticated(b.url, key.secret)));
    // A catalog edit through a reaches b's routing within 5 s, and a's at once.
    expect((await graphql(a.url, SET_PRICE, { price: 2_000_000 })).errors).toBeUndefined();
    expect(await cost(a.url)).toBeGreaterThan(0);
    await within(5500, async () => (await cost(b.url)) > 0);
    expect(await priceShown(b.url)).toBe(2_000_000);
    // The answered generations are in the one ledger, whichever instance served them.
    const [usage] = await a.app.services.storage.ledger.queryUsage({ apiKeyId: key.id }, []);
    expect(usage?.requests).toBeGreaterThanOrEqual(2);
  }, 60_000);
});

import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { LocalChangeFeed } from '../../src/coordination/change-feed.js';
import type { GenerationRow } from '../../src/db/schema.js';
import type { FakeUpstream } from '../conformance/harness.js';
import { startFakeOpenAI } from '../fakes/openai.js';
import { createTestDatabase, type TestDatabase } from './stores.js';

const ADMIN = 'sb-admin-shared-postgres-0123456789';

const databases: TestDatabase[] = [];
const apps: App[] = [];
const fakes: FakeUpstream[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.stop();
  for (const fake of fakes.splice(0)) await fake.close();
  for (const database of databases.splice(0)) await database.drop();
});

async function instance(database: TestDatabase, feed: LocalChangeFeed, env: Record<string, string> = {}): Promise<{ app: App; url: string }> {
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: database.url, SWITCHBOARD_ADMIN_KEY: ADMIN, SWITCHBOARD_LOCAL_DELAY_MS: '0', ...env });
  // One feed shared by both, as Redis's is: what one instance writes reaches the other's caches.
  const app = buildApp(config, { logger: pino({ level: 'silent' }), changeFeed: { feed, shared: true } });
  apps.push(app);
  const { url } = await app.start();
  return { app, url };
}

async function graphql<T>(url: string, query: string, variables: Record<string, unknown> = {}): Promise<{ data?: T | null; errors?: Array<{ message: string }> }> {
  const response = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` }, body: JSON.stringify({ query, variables }) });
  return (await response.json()) as { data?: T | null; errors?: Array<{ message: string }> };
}

async function until<T>(withinMs: number, read: () => Promise<T | undefined>): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() - started > withinMs) throw new Error(`not within ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('several instances on one PostgreSQL', () => {
  it('a provider added and synced through instance A serves requests on instance B', async () => {
    const database = await createTestDatabase('postgres');
    databases.push(database);
    const selfHosted = await startFakeOpenAI({ apiKey: null, models: ['house-llm'] });
    fakes.push(selfHosted);
    const feed = new LocalChangeFeed();
    const a = await instance(database, feed);
    const b = await instance(database, feed);
    const complete = `mutation { createCompletion(input: { model: "house/house-llm", messages: [{ role: USER, content: "hi" }] }) { provider { id } } }`;
    // Before: B knows no such provider.
    expect((await graphql(b.url, complete)).errors).toBeDefined();

    const added = await graphql(a.url, `mutation($url: String!) { upsertProvider(input: { id: "house", baseUrl: $url }) { id } }`, { url: selfHosted.url });
    expect(added.errors).toBeUndefined();
    const synced = await graphql<{ syncProviderModels: { createdModels: Array<{ id: string }> } }>(a.url, `mutation { syncProviderModels(providerId: "house") { createdModels { id } } }`);
    expect(synced.data?.syncProviderModels.createdModels).toEqual([{ id: 'house/house-llm' }]);

    const served = await until(2000, async () => {
      const body = await graphql<{ createCompletion: { provider: { id: string } } }>(b.url, complete);
      return body.data?.createCompletion ?? undefined;
    });
    expect(served.provider.id).toBe('house');
    expect(selfHosted.received.filter((request) => request.path.endsWith('/chat/completions')).length).toBeGreaterThanOrEqual(1);

    // Moved to another host through B: A's requests go there too.
    const moved = await startFakeOpenAI({ apiKey: null, models: ['house-llm'] });
    fakes.push(moved);
    expect((await graphql(b.url, `mutation($url: String!) { upsertProvider(input: { id: "house", baseUrl: $url }) { id } }`, { url: moved.url })).errors).toBeUndefined();
    await until(2000, async () => {
      await graphql(a.url, complete);
      return moved.received.some((request) => request.path.endsWith('/chat/completions')) ? true : undefined;
    });
  });

  it('starting instance B leaves instance A’s in-flight stream alone; it finishes SUCCEEDED', async () => {
    const database = await createTestDatabase('postgres');
    databases.push(database);
    const feed = new LocalChangeFeed();
    // Every word of the echo 60 ms apart: the stream is in flight for about 2 s.
    const a = await instance(database, feed, { SWITCHBOARD_LOCAL_DELAY_MS: '60' });
    const words = Array.from({ length: 35 }, (_, index) => `w${index}`).join(' ');
    const response = await fetch(`${a.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` },
      body: JSON.stringify({ model: 'local/echo', stream: true, messages: [{ role: 'user', content: words }] }),
    });
    expect(response.status).toBe(200);
    const generationId = response.headers.get('x-switchboard-generation-id') ?? '';
    expect(generationId).not.toBe('');
    const ledger = a.app.services.storage.ledger;
    const started = await until<GenerationRow>(1500, async () => {
      const row = await ledger.findGeneration(generationId);
      return row?.status === 'IN_PROGRESS' ? row : undefined;
    });
    expect(started.instanceId).toBe(ledger.instanceId);

    const b = await instance(database, feed);
    expect(b.app.services.storage.ledger.instanceId).not.toBe(ledger.instanceId);
    expect((await ledger.findGeneration(generationId))?.status).toBe('IN_PROGRESS');

    const text = await response.text();
    expect(text).toContain('[DONE]');
    expect(text).toContain('w34');
    const finished = await until(2000, async () => {
      const row = await ledger.findGeneration(generationId);
      return row?.status === 'IN_PROGRESS' ? undefined : row;
    });
    expect(finished).toMatchObject({ status: 'SUCCEEDED', errorCode: null });
  });

  it('an instance recovers the in-flight rows of an instance that is gone, and only those', async () => {
    const database = await createTestDatabase('postgres');
    databases.push(database);
    const live = await database.open();
    const dying = await database.open();
    expect(await live.ledger.markInterrupted()).toBe(0);
    expect(await dying.ledger.markInterrupted()).toBe(0);
    const inFlight = (id: string): GenerationRow => ({
      id, requestId: null, apiKeyId: null, requestedModel: 'local/echo', modelId: 'local/echo', providerId: 'local', providerModelId: 'echo', status: 'IN_PROGRESS',
      finishReason: null, rawFinishReason: null, promptTokens: 0, completionTokens: 0, totalTokens: 0, cachedPromptTokens: 0, cacheWrite5mTokens: 0, cacheWrite1hTokens: 0,
      reasoningTokens: 0, usageEstimated: false, costPicos: null, promptPriceMicros: 0, completionPriceMicros: 0, cachedPromptPriceMicros: null, cacheWritePriceMicros: null,
      latencyMs: null, timeToFirstTokenMs: null, streamed: true, errorCode: null, errorMessage: null, warnings: [], attempts: [], requestSummary: null, metadata: null,
      cacheHit: false, savedPicos: null, endUser: null, instanceId: null, createdAt: 1_790_000_000_000, finishedAt: null,
    });
    await live.ledger.writeGenerations([inFlight('gen_live')]);
    await dying.ledger.writeGenerations([inFlight('gen_dying')]);

    // Both writers hold their locks: a third instance starting recovers nothing.
    const third = await database.open();
    expect(await third.ledger.markInterrupted()).toBe(0);
    // The dying instance's session ends (as a crash ends it): its row, and only its row, is recovered.
    await dying.close();
    const fourth = await database.open();
    expect(await fourth.ledger.markInterrupted(1_790_000_000_500)).toBe(1);
    expect(await fourth.ledger.findGeneration('gen_dying')).toMatchObject({ status: 'INTERRUPTED', errorCode: 'INTERRUPTED', finishedAt: 1_790_000_000_500 });
    expect((await fourth.ledger.findGeneration('gen_live'))?.status).toBe('IN_PROGRESS');
  });
});

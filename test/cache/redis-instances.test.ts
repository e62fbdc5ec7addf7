import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeUpstream } from '../conformance/harness.js';
import { FAKE_OPENAI_KEY, startFakeOpenAI } from '../fakes/openai.js';
import { startTestServer, type TestServer } from '../helpers/app.js';

const REDIS_URL = 'redis://127.0.0.1:6379';
const ADMIN = 'sk-admin-cache-redis-test';
const PREFIX = `switchboard-test:cache-instances:${process.pid}:${Date.now()}:${Math.random().toString(36).slice(2)}:`;

let fake: FakeUpstream;
let instances: TestServer[] = [];
let redis: Redis;

beforeAll(async () => {
  fake = await startFakeOpenAI();
  redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  const env = { OPENAI_API_KEY: FAKE_OPENAI_KEY, OPENAI_BASE_URL: fake.url, SWITCHBOARD_ADMIN_KEY: ADMIN, REDIS_URL, SWITCHBOARD_CACHE_REDIS_PREFIX: PREFIX };
  // Two gateways with databases of their own: only Redis is shared.
  instances = [await startTestServer(env), await startTestServer(env)];
});

afterAll(async () => {
  for (const instance of instances) await instance.stop();
  await fake.close();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${PREFIX}*`, 'COUNT', 500);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  await redis.quit();
});

const client = (instance: TestServer): OpenAI => new OpenAI({ apiKey: ADMIN, baseURL: `${instance.url}/v1`, maxRetries: 0 });
const upstreamCalls = (): number => fake.received.filter((request) => request.path.endsWith('/chat/completions')).length;

describe('the response cache in Redis', () => {
  it('answers on one instance what another stored, streamed or not, with one upstream call', async () => {
    const [first, second] = instances as [TestServer, TestServer];
    const body = { model: 'openai/gpt-4o-mini', messages: [{ role: 'user' as const, content: `shared across instances ${Math.random()}` }] };
    const headers = { 'x-switchboard-cache-ttl': '60' };
    const before = upstreamCalls();

    const stored = await client(first).chat.completions.create(body, { headers }).withResponse();
    const hit = await client(second).chat.completions.create(body, { headers }).withResponse();
    expect(stored.response.headers.get('x-switchboard-cache')).toBe('MISS');
    expect(hit.response.headers.get('x-switchboard-cache')).toBe('HIT');
    expect(hit.data.choices[0]?.message.content).toBe(stored.data.choices[0]?.message.content);

    const streamed = await client(second).chat.completions.create({ ...body, stream: true }, { headers }).withResponse();
    let text = '';
    for await (const chunk of streamed.data) text += chunk.choices[0]?.delta.content ?? '';
    expect(streamed.response.headers.get('x-switchboard-cache')).toBe('HIT');
    expect(text).toBe(stored.data.choices[0]?.message.content);
    expect(upstreamCalls() - before).toBe(1);

    // The entry is in Redis under the configured prefix, not in either database.
    expect((await redis.keys(`${PREFIX}entry:*`)).length).toBe(1);
    const counts = instances.map((instance) => {
      const db = new Database(instance.databasePath, { readonly: true });
      try {
        return db.prepare('select count(*) from response_cache').pluck().get();
      } finally {
        db.close();
      }
    });
    expect(counts).toEqual([0, 0]);
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DatabaseCacheStore } from '../../src/cache/database-store.js';
import { RedisCacheStore } from '../../src/cache/redis-store.js';
import type { CacheSizeBound, ResponseCacheStore } from '../../src/cache/store.js';
import { ManualClock } from '../../src/clock.js';
import { openDatabase, type DatabaseHandle } from '../../src/db/client.js';
import { createSqliteStorage } from '../../src/db/sqlite-storage.js';
import { createTestDatabase } from '../storage/stores.js';

const REDIS_URL = 'redis://127.0.0.1:6379';

interface StoreUnderTest {
  store: ResponseCacheStore;
  clock: ManualClock;
  close(): Promise<void>;
}

type Maker = (bound: CacheSizeBound) => Promise<StoreUnderTest>;

const directory = mkdtempSync(join(tmpdir(), 'switchboard-cache-stores-'));
let databases = 0;
const redisClients: Redis[] = [];

async function deleteByPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

const makers: Array<[string, Maker]> = [
  [
    'database',
    async (bound) => {
      const handle: DatabaseHandle = openDatabase(join(directory, `cache-${++databases}.db`));
      const clock = new ManualClock();
      return { store: new DatabaseCacheStore(createSqliteStorage(handle).responseCache, bound, clock), clock, close: async () => handle.close() };
    },
  ],
  [
    'postgres',
    async (bound) => {
      const database = await createTestDatabase('postgres');
      const storage = await database.open();
      const clock = new ManualClock();
      return { store: new DatabaseCacheStore(storage.responseCache, bound, clock), clock, close: () => database.drop() };
    },
  ],
  [
    'redis',
    async (bound) => {
      const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
      redisClients.push(redis);
      const prefix = `switchboard-test:cache-store:${process.pid}:${Date.now()}:${Math.random().toString(36).slice(2)}:`;
      const clock = new ManualClock();
      return {
        store: new RedisCacheStore(redis, prefix, bound, clock),
        clock,
        close: async () => {
          await deleteByPrefix(redis, prefix);
          expect(await redis.keys(`${prefix}*`)).toEqual([]);
          await redis.quit();
        },
      };
    },
  ],
];

afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
});

describe.each(makers)('the %s cache store', (_name, make) => {
  let current: StoreUnderTest | undefined;
  const open = async (bound: CacheSizeBound = { maxEntries: 100, maxBytes: 1_000_000 }): Promise<StoreUnderTest> => {
    current = await make(bound);
    return current;
  };
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });

  it('returns what was stored until its TTL ends, by the injected clock, and nothing after', async () => {
    const { store, clock } = await open();
    await store.set('a', 'answer a', 60_000);
    await store.set('b', 'answer b', 120_000);
    expect(await store.get('a')).toBe('answer a');
    await clock.advance(59_999);
    expect(await store.get('a')).toBe('answer a');
    await clock.advance(1);
    expect(await store.get('a')).toBeUndefined();
    expect(await store.get('b')).toBe('answer b');
    expect(await store.get('never stored')).toBeUndefined();
  });

  it('replaces an entry stored again under the same key, counting its bytes once', async () => {
    const { store } = await open();
    await store.set('a', 'first', 60_000);
    await store.set('a', 'second and longer', 60_000);
    expect(await store.get('a')).toBe('second and longer');
    const stats = await store.stats();
    expect(stats.entries).toBe(1);
    // The Redis store keeps the expiry beside the value, so its bytes are a little more than the answer's.
    expect(stats.bytes).toBeGreaterThanOrEqual('second and longer'.length);
    expect(stats.bytes).toBeLessThan(2 * 'second and longer'.length);
  });

  it('evicts the oldest entries once more than maxEntries are stored', async () => {
    const { store, clock } = await open({ maxEntries: 3, maxBytes: 1_000_000 });
    const evicted: number[] = [];
    for (const key of ['k1', 'k2', 'k3', 'k4', 'k5']) {
      evicted.push((await store.set(key, `answer ${key}`, 600_000)).evicted);
      await clock.advance(10);
    }
    expect(evicted).toEqual([0, 0, 0, 1, 1]);
    expect(await store.get('k1')).toBeUndefined();
    expect(await store.get('k2')).toBeUndefined();
    for (const key of ['k3', 'k4', 'k5']) expect(await store.get(key)).toBe(`answer ${key}`);
    expect((await store.stats()).entries).toBe(3);
  });

  it('evicts the oldest entries until the bytes fit maxBytes; an entry bigger than the bound is not kept', async () => {
    const { store, clock } = await open({ maxEntries: 1000, maxBytes: 2_500 });
    const kilobyte = 'x'.repeat(1000);
    for (const key of ['k1', 'k2']) {
      expect((await store.set(key, kilobyte, 600_000)).evicted).toBe(0);
      await clock.advance(10);
    }
    expect((await store.set('k3', kilobyte, 600_000)).evicted).toBe(1);
    expect(await store.get('k1')).toBeUndefined();
    expect(await store.get('k2')).toBe(kilobyte);
    expect((await store.stats()).bytes).toBeLessThanOrEqual(2_500);
    await clock.advance(10);
    await store.set('huge', 'y'.repeat(3_000), 600_000);
    expect(await store.get('huge')).toBeUndefined();
    expect((await store.stats()).bytes).toBeLessThanOrEqual(2_500);
  });

  it('evicts one entry on request', async () => {
    const { store } = await open();
    await store.set('a', 'answer', 60_000);
    expect(await store.evict('a')).toBe(true);
    expect(await store.evict('a')).toBe(false);
    expect(await store.get('a')).toBeUndefined();
    expect(await store.stats()).toEqual({ entries: 0, bytes: 0 });
  });
});

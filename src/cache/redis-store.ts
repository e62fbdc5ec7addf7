import type { Redis } from 'ioredis';
import type { Clock } from '../clock.js';
import type { CacheSizeBound, ResponseCacheStore } from './store.js';

/**
 * Stores the entry with its TTL, indexes it by age and size, then evicts the oldest entries while the bound is
 * exceeded; atomically, so instances writing at once keep one consistent index. Entries Redis already expired are
 * dropped from the index as they reach its old end (they were not evicted, so they are not counted).
 * KEYS: entry, index (sorted set by creation time), sizes (hash), total bytes.
 * ARGV: member, value, ttl ms, now, max entries, max bytes, entry key prefix.
 */
const SET_SCRIPT = `
local size = string.len(ARGV[2])
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
local old = redis.call('HGET', KEYS[3], ARGV[1])
if old then redis.call('DECRBY', KEYS[4], old) end
redis.call('HSET', KEYS[3], ARGV[1], size)
redis.call('INCRBY', KEYS[4], size)
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
local function forget(member)
  local bytes = redis.call('HGET', KEYS[3], member)
  if bytes then
    redis.call('DECRBY', KEYS[4], bytes)
    redis.call('HDEL', KEYS[3], member)
  end
  redis.call('ZREM', KEYS[2], member)
  return redis.call('DEL', ARGV[7] .. member)
end
for _, member in ipairs(redis.call('ZRANGE', KEYS[2], 0, 7)) do
  if redis.call('EXISTS', ARGV[7] .. member) == 0 then forget(member) end
end
local evicted = 0
while true do
  local count = redis.call('ZCARD', KEYS[2])
  local total = tonumber(redis.call('GET', KEYS[4]) or '0')
  if count == 0 or (count <= tonumber(ARGV[5]) and total <= tonumber(ARGV[6])) then break end
  local oldest = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
  evicted = evicted + forget(oldest)
end
return evicted
`;

/** KEYS: index, sizes, total bytes. ARGV: member, entry key prefix. */
const FORGET_SCRIPT = `
local bytes = redis.call('HGET', KEYS[2], ARGV[1])
if bytes then
  redis.call('DECRBY', KEYS[3], bytes)
  redis.call('HDEL', KEYS[2], ARGV[1])
end
redis.call('ZREM', KEYS[1], ARGV[1])
return redis.call('DEL', ARGV[2] .. ARGV[1])
`;

/**
 * The response cache in Redis, shared by every instance that uses the same `prefix`. Each entry carries its expiry
 * time from the gateway's clock (checked on read, so an injected clock governs it) and a Redis TTL (so Redis
 * frees it without us).
 */
export class RedisCacheStore implements ResponseCacheStore {
  private readonly entryPrefix: string;
  private readonly index: string;
  private readonly sizes: string;
  private readonly total: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly bound: CacheSizeBound,
    private readonly clock: Clock,
  ) {
    this.entryPrefix = `${prefix}entry:`;
    this.index = `${prefix}index`;
    this.sizes = `${prefix}sizes`;
    this.total = `${prefix}bytes`;
  }

  async get(key: string): Promise<string | undefined> {
    const stored = await this.redis.get(this.entryPrefix + key);
    if (stored === null) return undefined;
    const space = stored.indexOf(' ');
    const expiresAt = Number(stored.slice(0, space));
    if (space < 0 || !(expiresAt > this.clock.now())) return undefined;
    return stored.slice(space + 1);
  }

  async set(key: string, value: string, ttlMs: number): Promise<{ evicted: number }> {
    const now = this.clock.now();
    const evicted = await this.redis.eval(
      SET_SCRIPT,
      4,
      this.entryPrefix + key,
      this.index,
      this.sizes,
      this.total,
      key,
      `${now + ttlMs} ${value}`,
      Math.max(1, Math.ceil(ttlMs)),
      now,
      this.bound.maxEntries,
      this.bound.maxBytes,
      this.entryPrefix,
    );
    return { evicted: Number(evicted) };
  }

  async evict(key: string): Promise<boolean> {
    return Number(await this.redis.eval(FORGET_SCRIPT, 3, this.index, this.sizes, this.total, key, this.entryPrefix)) > 0;
  }

  async stats(): Promise<{ entries: number; bytes: number }> {
    const [entries, bytes] = await Promise.all([this.redis.zcard(this.index), this.redis.get(this.total)]);
    return { entries, bytes: Number(bytes ?? 0) };
  }
}

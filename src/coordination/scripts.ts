import { LuaScript } from './shared-state.js';

/*
 * Every check-and-update on shared state is one script, so Redis runs it atomically: no other instance's command
 * lands between the read and the write. Time comes from the caller when it passes one (tests with a manual
 * clock), else from Redis TIME, the one clock every instance agrees on.
 */

const NOW = `
local now = tonumber(ARGV[#ARGV])
if now == nil then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

/**
 * A token bucket, the same arithmetic as InMemoryRateLimitStore: capacity perMinute, refilled continuously.
 * KEYS[1] the bucket; ARGV mode ('take' | 'adjust'), amount, perMinute, required, now.
 * Returns {wait, remaining}: wait 0 when taken (or adjusted), else the milliseconds until `required` would be
 * there; remaining, the whole tokens left after it (at least 0), for the rate-limit headers.
 */
export const TOKEN_BUCKET = new LuaScript(`${NOW}
local amount = tonumber(ARGV[2])
local per = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
if tokens == nil then
  tokens = per
else
  tokens = math.min(per, tokens + math.max(0, now - tonumber(state[2])) * per / 60000)
end
local wait = 0
if ARGV[1] == 'take' then
  local needed = math.min(tonumber(ARGV[4]), per)
  if tokens >= needed then
    tokens = tokens - amount
  else
    wait = math.max(1, math.ceil((needed - tokens) * 60000 / per))
  end
else
  tokens = math.min(per, tokens + amount)
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'at', string.format('%d', now))
-- A bucket idle long enough to be full again is the same as no bucket.
redis.call('PEXPIRE', KEYS[1], math.ceil((per - tokens) * 60000 / per) + 1000)
return {wait, math.max(0, math.floor(tokens))}
`);

/**
 * Concurrent streams as leases in a sorted set (member: instance and stream, score: when the lease lapses), so a
 * crashed instance's streams stop counting once their leases lapse instead of holding the cap forever.
 * KEYS[1] the set; ARGV member, cap, ttlMs, now. Returns {1, open} when taken, {0, open} when refused.
 */
export const STREAM_ACQUIRE = new LuaScript(`${NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local open = redis.call('ZCARD', KEYS[1])
if open >= tonumber(ARGV[2]) then
  return {0, open}
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]))
return {1, open + 1}
`);

/** Extends leases this instance still holds. KEYS the sets; ARGV members (one per key), ttlMs, now. */
export const STREAM_RENEW = new LuaScript(`${NOW}
local ttl = tonumber(ARGV[#ARGV - 1])
for i = 1, #KEYS do
  redis.call('ZADD', KEYS[i], 'XX', now + ttl, ARGV[i])
  redis.call('PEXPIRE', KEYS[i], ttl)
end
return #KEYS
`);

/**
 * A key's budget in one period, a hash: spent (recorded, loaded from the ledger once) and reserved (in flight).
 * Idle hashes expire and are loaded from the ledger again.
 */

/** KEYS[1] the hash; ARGV spent from the ledger, ttlMs. Sets spent unless another instance did first. */
export const BUDGET_LOAD = new LuaScript(`
redis.call('HSETNX', KEYS[1], 'spent', ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
return redis.call('HMGET', KEYS[1], 'spent', 'reserved')
`);

/**
 * KEYS[1] the hash; ARGV picos, the spent + reserved the caller decided on, the most the request can cost, the
 * key's limit, ttlMs. Reserves when that sum has not grown since, or when the request's most still fits under the
 * limit: returns {1}, else {0, spent, reserved}, or {-1} when the hash is gone (expired: read the ledger again).
 */
export const BUDGET_RESERVE = new LuaScript(`
local state = redis.call('HMGET', KEYS[1], 'spent', 'reserved')
if state[1] == false then
  return {-1}
end
local total = tonumber(state[1]) + tonumber(state[2] or '0')
if total > tonumber(ARGV[2]) and total + tonumber(ARGV[3]) > tonumber(ARGV[4]) then
  return {0, state[1], state[2] or '0'}
end
redis.call('HINCRBY', KEYS[1], 'reserved', ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[5]))
return {1}
`);

/**
 * KEYS[1] the hash the reservation was made in, KEYS[2] the period the request is charged to (often the same);
 * ARGV reservedPicos, actualPicos, ttlMs. A period not loaded yet is not charged: its load reads the ledger.
 */
export const BUDGET_SETTLE = new LuaScript(`
if redis.call('HEXISTS', KEYS[1], 'spent') == 1 then
  local reserved = tonumber(redis.call('HGET', KEYS[1], 'reserved') or '0')
  redis.call('HSET', KEYS[1], 'reserved', string.format('%d', math.max(0, reserved - tonumber(ARGV[1]))))
end
if tonumber(ARGV[2]) > 0 and redis.call('HEXISTS', KEYS[2], 'spent') == 1 then
  redis.call('HINCRBY', KEYS[2], 'spent', ARGV[2])
  redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[3]))
end
return 1
`);

import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { HealthGossipRelay } from '../../src/coordination/health-gossip.js';
import { RedisBudgetStore } from '../../src/coordination/budget-store.js';
import { RedisRateLimitStore } from '../../src/coordination/rate-limit-store.js';
import { RedisChangeFeed } from '../../src/coordination/redis-change-feed.js';
import { SharedState } from '../../src/coordination/shared-state.js';
import { RedisStreamSlots } from '../../src/coordination/stream-slots.js';
import type { ChangeTopic } from '../../src/coordination/change-feed.js';
import { ManualClock } from '../../src/clock.js';
import { SharedStateUnavailableError } from '../../src/errors.js';
import { RouterState } from '../../src/routing/health.js';
import { dropPrefix, sharedState, uniquePrefix } from '../helpers/redis.js';
import { eventually, freePort } from '../helpers/gateway-processes.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Two instances' connections on one prefix. */
async function twoInstances(): Promise<[SharedState, SharedState]> {
  const prefix = uniquePrefix();
  const a = await sharedState(prefix);
  const b = await sharedState(prefix);
  cleanups.push(() => dropPrefix(prefix), () => a.close(), () => b.close());
  return [a, b];
}

describe('the Redis change feed', () => {
  it('delivers a topic to every instance, the publisher included (at once), and only to that topic', async () => {
    const [a, b] = await twoInstances();
    const feedA = new RedisChangeFeed(a);
    const feedB = new RedisChangeFeed(b);
    feedA.start();
    feedB.start();
    expect(await a.ready(5000)).toBe(true);
    expect(await b.ready(5000)).toBe(true);
    const seen: Array<[string, ChangeTopic]> = [];
    feedA.subscribe('keys', (topic) => seen.push(['a', topic]));
    feedB.subscribe('keys', (topic) => seen.push(['b', topic]));
    feedB.subscribe('catalog', (topic) => seen.push(['b', topic]));
    feedA.publish('keys');
    // The publisher's own caches drop before publish returns.
    expect(seen).toEqual([['a', 'keys']]);
    expect(await eventually(() => seen.length === 2, 5000)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(seen).toEqual([
      ['a', 'keys'],
      ['b', 'keys'],
    ]);
  });
});

describe('health gossip', () => {
  it('opens on B the breaker failures opened on A, pools the figures, and closes it again when A closes it', async () => {
    const [a, b] = await twoInstances();
    const breaker = { failureThreshold: 3, failureRate: 0.5, minimumRequests: 10, minimumFailingRequests: 3, windowMs: 60_000, cooldownMs: 1000 };
    const clockA = new ManualClock(1_000_000);
    const clockB = new ManualClock(1_000_000);
    const stateA = new RouterState({ breaker, clock: clockA });
    const stateB = new RouterState({ breaker, clock: clockB });
    const gossipA = new HealthGossipRelay(a, stateA);
    const gossipB = new HealthGossipRelay(b, stateB);
    gossipA.start();
    gossipB.start();
    cleanups.push(() => gossipA.close(), () => gossipB.close());
    expect(await Promise.all([a.ready(5000), b.ready(5000)])).toEqual([true, true]);
    const ref = { providerId: 'openai', providerModelId: 'gpt-4o', modelId: 'openai/gpt-4o' };
    const endpoint = stateA.endpoint(ref);
    for (let request = 0; request < 2; request++) {
      endpoint.failed('upstream 500', 'PROVIDER_ERROR', clockA.now());
      expect(endpoint.breaker.failed('closed', clockA.now(), `r${request}`)).toBe(false);
    }
    gossipA.flush();
    expect(await eventually(() => stateB.providerHealth('openai').failures === 2, 5000)).toBe(true);
    // Failures seen elsewhere feed B's figures, not B's own breaker.
    expect(stateB.providerHealth('openai').state).toBe('CLOSED');
    endpoint.failed('upstream 500', 'PROVIDER_ERROR', clockA.now());
    expect(endpoint.breaker.failed('closed', clockA.now(), 'r2')).toBe(true);
    expect(await eventually(() => stateB.providerHealth('openai').state === 'OPEN', 5000)).toBe(true);
    expect(stateB.find(ref)?.breaker.available(clockB.now())).toBe(false);
    expect(stateB.openBreakers()).toBe(1);
    // A's probe succeeds after the cool-down: B closes too.
    await clockA.advance(1000);
    expect(endpoint.breaker.acquire(clockA.now())).toBe('probe');
    endpoint.breaker.succeeded('probe', clockA.now());
    expect(await eventually(() => stateB.providerHealth('openai').state === 'CLOSED', 5000)).toBe(true);
  });
});

describe('an unreachable Redis', () => {
  async function unreachable(failureMode: 'open' | 'closed'): Promise<SharedState> {
    // A port nothing listens on.
    const state = new SharedState({ url: `redis://127.0.0.1:${await freePort()}`, prefix: uniquePrefix(), failureMode }, pino({ level: 'silent' }));
    cleanups.push(() => state.close());
    expect(await state.ready(200)).toBe(false);
    return state;
  }

  it('open: rate limits and stream caps hold per instance, budgets refuse', async () => {
    const state = await unreachable('open');
    const rates = new RedisRateLimitStore(state);
    const waits = await Promise.all(Array.from({ length: 7 }, () => rates.take('rpm:k', 1, 5)));
    expect(waits.filter((answer) => answer.waitMs === 0)).toHaveLength(5);
    const streams = new RedisStreamSlots(state);
    cleanups.push(() => streams.close());
    const slots = await Promise.all(Array.from({ length: 4 }, () => streams.acquire('k', 2)));
    expect(slots.filter((slot) => slot.taken)).toHaveLength(2);
    await expect(new RedisBudgetStore(state).standing('k', 0, async () => 0)).rejects.toBeInstanceOf(SharedStateUnavailableError);
    expect(state.fallbacks.get('rate_limits')).toBe(7);
    expect(state.refusals.get('budgets')).toBe(1);
  });

  it('closed: rate limits and stream caps refuse with UNAVAILABLE (503)', async () => {
    const state = await unreachable('closed');
    const error = await new RedisRateLimitStore(state).take('rpm:k', 1, 5).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SharedStateUnavailableError);
    expect((error as SharedStateUnavailableError).httpStatus).toBe(503);
    expect((error as SharedStateUnavailableError).code).toBe('UNAVAILABLE');
    const streams = new RedisStreamSlots(state);
    cleanups.push(() => streams.close());
    await expect(streams.acquire('k', 2)).rejects.toBeInstanceOf(SharedStateUnavailableError);
  });
});

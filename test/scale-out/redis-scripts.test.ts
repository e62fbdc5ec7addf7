import { afterEach, describe, expect, it } from 'vitest';
import { RedisBudgetStore } from '../../src/coordination/budget-store.js';
import { RedisRateLimitStore } from '../../src/coordination/rate-limit-store.js';
import type { SharedState } from '../../src/coordination/shared-state.js';
import { RedisStreamSlots } from '../../src/coordination/stream-slots.js';
import { dropPrefix, sharedState, uniquePrefix } from '../helpers/redis.js';

const opened: Array<{ state: SharedState; prefix: string }> = [];

async function fresh(): Promise<SharedState> {
  const prefix = uniquePrefix();
  const state = await sharedState(prefix);
  opened.push({ state, prefix });
  return state;
}

afterEach(async () => {
  for (const { state, prefix } of opened.splice(0)) {
    await state.close();
    await dropPrefix(prefix);
  }
});

describe('the token-bucket script', () => {
  it('takes exactly N in a window, refuses the N+1st, and admits again only once a token has refilled', async () => {
    let now = 1_000_000;
    const state = await fresh();
    // Two stores on one Redis: two instances' views of one bucket.
    const a = new RedisRateLimitStore(state, () => now);
    const b = new RedisRateLimitStore(state, () => now);
    const answers = await Promise.all(Array.from({ length: 25 }, (_, index) => (index % 2 === 0 ? a : b).take('rpm:k', 1, 10)));
    const results = answers.map((answer) => answer.waitMs);
    expect(results.filter((wait) => wait === 0)).toHaveLength(10);
    // Each taken answer says what it left, counting down from 9 to 0 across both instances.
    expect(answers.filter((answer) => answer.waitMs === 0).map((answer) => answer.remaining).sort((x, y) => y - x)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    expect(answers.filter((answer) => answer.waitMs > 0).every((answer) => answer.remaining === 0)).toBe(true);
    const refused = results.filter((wait) => wait > 0);
    expect(refused).toHaveLength(15);
    // One token refills in 6 s: the wait says so.
    expect(Math.max(...refused)).toBeLessThanOrEqual(6000);
    expect(Math.min(...refused)).toBeGreaterThan(5900);
    now += 5999;
    expect((await a.take('rpm:k', 1, 10)).waitMs).toBeGreaterThan(0);
    now += 1;
    expect((await b.take('rpm:k', 1, 10)).waitMs).toBe(0);
    expect((await a.take('rpm:k', 1, 10)).waitMs).toBeGreaterThan(0);
    // A whole window later the bucket is full again, never fuller.
    now += 600_000;
    const again = await Promise.all(Array.from({ length: 12 }, () => a.take('rpm:k', 1, 10)));
    expect(again.filter((answer) => answer.waitMs === 0)).toHaveLength(10);
  });

  it('reserves tokens per minute by amount and charges the difference afterwards, even below zero', async () => {
    const now = 5_000;
    const state = await fresh();
    const store = new RedisRateLimitStore(state, () => now);
    expect(await store.take('tpm:k', 600, 1000)).toEqual({ waitMs: 0, remaining: 400 });
    expect((await store.take('tpm:k', 600, 1000)).waitMs).toBeGreaterThan(0);
    expect(await store.take('tpm:k', 400, 1000)).toEqual({ waitMs: 0, remaining: 0 });
    // The first request really used 900, not 600: 300 more are owed, and the bucket goes negative.
    await store.adjust('tpm:k', -300, 1000);
    const { waitMs: wait, remaining } = await store.take('tpm:k', 1, 1000);
    expect(remaining).toBe(0);
    expect(wait).toBe(Math.ceil((1 + 300) * 60_000 / 1000));
    // Giving back never fills past capacity.
    await store.adjust('tpm:k', 10_000, 1000);
    expect((await store.take('tpm:k', 1000, 1000)).waitMs).toBe(0);
    expect((await store.take('tpm:k', 1, 1000)).waitMs).toBeGreaterThan(0);
  });
});

describe('stream leases', () => {
  it('holds a cap of 3 across two instances, frees a slot on release, and lets a dead instance\'s leases lapse', async () => {
    const state = await fresh();
    let now = 50_000_000;
    const clock = () => now;
    const a = new RedisStreamSlots(state, 30_000, clock);
    const b = new RedisStreamSlots(state, 30_000, clock);
    try {
      const slots = await Promise.all(Array.from({ length: 10 }, (_, index) => (index % 2 === 0 ? a : b).acquire('key', 3)));
      const taken = slots.filter((slot) => slot.taken);
      expect(taken).toHaveLength(3);
      for (const slot of slots) if (!slot.taken) expect(slot.open).toBe(3);
      const first = taken[0];
      // Released twice (settle and a refund may both run): one slot comes back, not two.
      if (first?.taken) {
        first.release();
        first.release();
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
      const refill = await b.acquire('key', 3);
      expect(refill.taken).toBe(true);
      expect((await b.acquire('key', 3)).taken).toBe(false);
      // Renewed leases outlive their first term...
      now += 20_000;
      await a.renew();
      await b.renew();
      now += 20_000;
      expect((await b.acquire('key', 3)).taken).toBe(false);
      // ...and when instance a "crashes" (stops renewing), its leases lapse and free their slots, b's do not.
      const heldByA = a.heldCount;
      expect(heldByA).toBeGreaterThan(0);
      now += 20_000;
      await b.renew();
      now += 15_000;
      const after = await Promise.all(Array.from({ length: 4 }, () => b.acquire('key', 3)));
      expect(after.filter((slot) => slot.taken)).toHaveLength(heldByA);
    } finally {
      a.close();
      b.close();
    }
  });
});

/** A basis whose request could cost the whole limit: only an unchanged standing lets it reserve. */
const tight = (seen: { spentPicos: number; reservedPicos: number }) => ({ seen, mostPicos: 1_000_000, limitPicos: 1_000_000 });

describe('budget reservations', () => {
  it('loads the ledger once, reserves only on the standing it was decided on, and settles actual spend', async () => {
    const state = await fresh();
    const a = new RedisBudgetStore(state);
    const b = new RedisBudgetStore(state);
    let loads = 0;
    const load = async (): Promise<number> => {
      loads++;
      return 1_000;
    };
    const [first, second] = await Promise.all([a.standing('k', 0, load), b.standing('k', 0, load)]);
    expect(first).toEqual({ spentPicos: 1_000, reservedPicos: 0 });
    expect(second).toEqual(first);
    // Both decided on the same standing: exactly one reservation lands, the other is told the standing now.
    const outcomes = await Promise.all([a.reserve('k', 0, 500, tight(first)), b.reserve('k', 0, 700, tight(second))]);
    const landed = outcomes.filter((outcome) => outcome.reserved);
    expect(landed).toHaveLength(1);
    const refused = outcomes.find((outcome) => !outcome.reserved);
    const after = await b.standing('k', 0, load);
    expect([500, 700]).toContain(after.reservedPicos);
    expect(refused).toEqual({ reserved: false, standing: after });
    expect(loads).toBeLessThanOrEqual(2);
    // Deciding again on that standing succeeds.
    expect(await b.reserve('k', 0, 100, tight(after))).toEqual({ reserved: true });
    // A settlement that gives back part of a reservation does not spoil a standing read before it.
    const beforeSettle = await a.standing('k', 0, load);
    await a.settle('k', 0, 100, 0, 40);
    expect(await a.reserve('k', 0, 1, tight(beforeSettle))).toEqual({ reserved: true });
    // A charge above what was reserved does.
    const beforeOvercharge = await a.standing('k', 0, load);
    await a.settle('k', 0, 1, 0, 50);
    expect((await a.reserve('k', 0, 1, tight(beforeOvercharge))).reserved).toBe(false);
    // On a stale standing, a request whose most still fits under the limit reserves; one that might not, does not.
    const now = await a.standing('k', 0, load);
    const total = now.spentPicos + now.reservedPicos;
    const stale = { spentPicos: 0, reservedPicos: 0 };
    expect((await a.reserve('k', 0, 1, { seen: stale, mostPicos: 100, limitPicos: total + 99 })).reserved).toBe(false);
    expect(await a.reserve('k', 0, 1, { seen: stale, mostPicos: 100, limitPicos: total + 100 })).toEqual({ reserved: true });
    await a.settle('k', 0, 1, 0, 0);
    const settled = await a.standing('k', 0, load);
    expect(settled).toEqual({ spentPicos: 1_090, reservedPicos: after.reservedPicos });
    // Releasing more than is reserved never goes below zero; a period never loaded is not charged.
    await a.settle('k', 0, 10_000_000, 86_400_000, 5);
    expect(await a.standing('k', 0, load)).toEqual({ spentPicos: 1_090, reservedPicos: 0 });
    expect((await a.standing('k', 86_400_000, async () => 7)).spentPicos).toBe(7);
    // A hash that expired is read from the ledger again.
    await state.run((client) => client.del(state.key('budget', 'k', '0')));
    expect(await a.reserve('k', 0, 1, tight(settled))).toEqual({ reserved: false, standing: null });
  });

  it('handles sums beyond 2^32 picos exactly', async () => {
    const state = await fresh();
    const store = new RedisBudgetStore(state);
    const big = 4_000_000_000_123;
    const standing = await store.standing('k', 0, async () => big);
    expect(standing.spentPicos).toBe(big);
    expect(await store.reserve('k', 0, 2_000_000_000_001, tight(standing))).toEqual({ reserved: true });
    await store.settle('k', 0, 2_000_000_000_001, 0, 1_999_999_999_999);
    expect(await store.standing('k', 0, async () => 0)).toMatchObject({ spentPicos: big + 1_999_999_999_999, reservedPicos: 0 });
  });
});

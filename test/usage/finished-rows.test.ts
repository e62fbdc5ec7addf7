import { describe, expect, it } from 'vitest';
import type { GenerationRow } from '../../src/db/schema.js';
import { ForbiddenError } from '../../src/errors.js';
import { canSee, ledgerScope, scopedKeyFilter } from '../../src/usage/access.js';
import { FinishedRows, SubscriberOverflowError } from '../../src/usage/events.js';

function row(id: string, apiKeyId: string | null = null): GenerationRow {
  return {
    id, requestId: null, apiKeyId, requestedModel: 'local/echo', modelId: 'local/echo', providerId: 'local', providerModelId: 'echo', status: 'SUCCEEDED',
    finishReason: 'stop', rawFinishReason: null, promptTokens: 1, completionTokens: 1, totalTokens: 2, cachedPromptTokens: 0, reasoningTokens: 0,
    usageEstimated: false, costPicos: 0, promptPriceMicros: 0, completionPriceMicros: 0, cachedPromptPriceMicros: 0, cacheWritePriceMicros: null, cacheWrite5mTokens: 0, cacheWrite1hTokens: 0, latencyMs: 1, timeToFirstTokenMs: null,
    streamed: false, errorCode: null, errorMessage: null, warnings: [], attempts: [], requestSummary: null, metadata: null, endUser: null, cacheHit: false, savedPicos: null, instanceId: null, createdAt: 0, finishedAt: 0,
  };
}

const viewer = (isAdmin: boolean, apiKeyId: string | null) => ({ isAdmin, apiKeyId, scopes: new Set<never>(), key: null });

describe('FinishedRows', () => {
  it('delivers published rows to a subscriber in order, across batches', async () => {
    const hub = new FinishedRows();
    const subscription = hub.subscribe();
    hub.publish([row('a'), row('b')]);
    hub.publish([row('c')]);
    const ids: string[] = [];
    for (let index = 0; index < 3; index++) ids.push((await subscription.next()).value!.id);
    expect(ids).toEqual(['a', 'b', 'c']);
    // A pull that waits is answered by the next publish.
    const pending = subscription.next();
    hub.publish([row('d')]);
    expect((await pending).value?.id).toBe('d');
  });

  it('closes a subscriber that falls behind its buffer with an error, and counts it, without touching others', async () => {
    const hub = new FinishedRows();
    const slow = hub.subscribe({ bufferLimit: 3 });
    const fast = hub.subscribe({ bufferLimit: 3 });
    hub.publish([row('1'), row('2'), row('3')]);
    for (let index = 0; index < 3; index++) await fast.next();
    hub.publish([row('4')]);
    expect(hub.overflowedSubscribers).toBe(1);
    expect(hub.subscriberCount).toBe(1);
    await expect(slow.next()).rejects.toBeInstanceOf(SubscriberOverflowError);
    expect(await slow.next()).toEqual({ value: undefined, done: true });
    expect((await fast.next()).value?.id).toBe('4');
  });

  it('filters rows per subscriber, and frees a subscriber that returns', async () => {
    const hub = new FinishedRows();
    const own = hub.subscribe({ filter: (candidate) => candidate.apiKeyId === 'key_a' });
    hub.publish([row('x', 'key_b'), row('y', 'key_a'), row('z', null)]);
    expect((await own.next()).value?.id).toBe('y');
    await own.return!();
    expect(hub.subscriberCount).toBe(0);
    hub.publish([row('w', 'key_a')]);
    expect(await own.next()).toEqual({ value: undefined, done: true });
  });

  it('keeps publishing when a listener throws', async () => {
    const errors: unknown[] = [];
    const hub = new FinishedRows((error) => errors.push(error));
    const seen: string[] = [];
    hub.listen(() => {
      throw new Error('broken listener');
    });
    hub.listen((rows) => seen.push(...rows.map((item) => item.id)));
    const subscription = hub.subscribe();
    hub.publish([row('a')]);
    expect(errors).toHaveLength(1);
    expect(seen).toEqual(['a']);
    expect((await subscription.next()).value?.id).toBe('a');
  });

  it('ends subscriptions on close after they drain what they hold', async () => {
    const hub = new FinishedRows();
    const subscription = hub.subscribe();
    hub.publish([row('last')]);
    hub.close();
    expect((await subscription.next()).value?.id).toBe('last');
    expect((await subscription.next()).done).toBe(true);
    expect((await hub.subscribe().next()).done).toBe(true);
  });
});

describe('ledgerScope', () => {
  it('lets an admin see everything and a key only its own generations', () => {
    const admin = ledgerScope(viewer(true, null));
    expect(canSee(admin, row('a', 'key_b'))).toBe(true);
    expect(scopedKeyFilter(admin, 'key_b')).toBe('key_b');
    expect(scopedKeyFilter(admin, undefined)).toBeUndefined();

    const key = ledgerScope(viewer(false, 'key_a'));
    expect(canSee(key, row('a', 'key_a'))).toBe(true);
    expect(canSee(key, row('b', 'key_b'))).toBe(false);
    expect(canSee(key, row('c', null))).toBe(false);
    expect(scopedKeyFilter(key, undefined)).toBe('key_a');
    expect(() => scopedKeyFilter(key, 'key_b')).toThrow(ForbiddenError);
  });

  it('refuses a caller that is neither admin nor a key', () => {
    expect(() => ledgerScope(viewer(false, null))).toThrow(ForbiddenError);
  });
});

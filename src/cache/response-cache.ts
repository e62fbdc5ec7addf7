import type { Caller, CacheStatus, CompletionInput } from '../completions/types.js';
import { decodeAnswer, encodeAnswer, type CachedAnswer } from './entry.js';
import { requestCacheKey } from './key.js';
import type { CacheMetrics } from './metrics.js';
import type { ResponseCacheStore } from './store.js';

/** `key`: a cached answer is found only by requests of the key that stored it; `global`: by any key. */
export type CacheScope = 'key' | 'global';

/** A month: longer-lived answers belong in the caller's own store. */
export const MAX_CACHE_TTL_SECONDS = 30 * 24 * 60 * 60;

/**
 * Fields of a request that do not change its answer, left out of its key: the caller's own bookkeeping and the
 * cache's own settings. Everything else — the normalized request as adapters receive it, fields added later
 * included — goes into the key.
 */
export const PER_REQUEST_FIELDS = ['metadata', 'cache'] as const satisfies ReadonlyArray<keyof CompletionInput>;

/** What the cache will do for one opted-in request. */
export interface CachePlan {
  key: string;
  /** 0: look up but do not store (bypass without a TTL). */
  ttlSeconds: number;
  bypass: boolean;
}

export interface CacheLookup {
  /** Null when the request did not opt in: the cache plays no part and transports say nothing about it. */
  plan: CachePlan | null;
  status: CacheStatus | null;
  answer?: CachedAnswer;
}

export const NOT_CACHED: CacheLookup = { plan: null, status: null };

/**
 * The exact-match response cache in front of the completion service: which requests take part, their key, and
 * reading and writing the store. A store that fails is counted and ignored: the request goes to a provider.
 */
export class ResponseCache {
  constructor(
    private readonly store: ResponseCacheStore,
    private readonly scope: CacheScope,
    private readonly metrics: CacheMetrics,
  ) {}

  /** The request's own TTL wins over its key's default; without either (or with 0) it does not take part. */
  private plan(input: CompletionInput, caller: Caller): CachePlan | null {
    const ttlSeconds = input.cache?.ttlSeconds ?? caller.key?.cacheTtlSeconds ?? 0;
    const bypass = input.cache?.bypass === true;
    if (ttlSeconds <= 0 && !bypass) return null;
    const scope = this.scope === 'global' ? 'global' : `key:${caller.apiKeyId ?? 'unkeyed'}`;
    return { key: requestCacheKey(scope, input, PER_REQUEST_FIELDS), ttlSeconds: Math.max(0, ttlSeconds), bypass };
  }

  async lookup(input: CompletionInput, caller: Caller): Promise<CacheLookup> {
    const plan = this.plan(input, caller);
    if (plan === null) return NOT_CACHED;
    if (plan.bypass) return { plan, status: 'BYPASS' };
    let stored: string | undefined;
    try {
      stored = await this.store.get(plan.key);
    } catch {
      this.metrics.errors.inc();
    }
    const answer = stored === undefined ? undefined : decodeAnswer(stored);
    if (stored !== undefined && answer === undefined) void this.store.evict(plan.key).catch(() => this.metrics.errors.inc());
    if (answer === undefined) return { plan, status: 'MISS' };
    return { plan, status: 'HIT', answer };
  }

  /** Counts what the cache did for a request admission let through (a refused one was not served either way). */
  admitted(lookup: CacheLookup): void {
    if (lookup.status === 'HIT') this.metrics.hits.inc();
    else if (lookup.status === 'MISS') this.metrics.misses.inc();
    else if (lookup.status === 'BYPASS') this.metrics.bypasses.inc();
  }

  /** Keeps a fresh answer for the request's TTL (a bypassed request's answer replaces the stale one). */
  async save(lookup: CacheLookup, answer: CachedAnswer): Promise<void> {
    const plan = lookup.plan;
    if (plan === null || plan.ttlSeconds <= 0) return;
    try {
      const { evicted } = await this.store.set(plan.key, encodeAnswer(answer), plan.ttlSeconds * 1000);
      if (evicted > 0) this.metrics.evictions.inc(evicted);
    } catch {
      this.metrics.errors.inc();
    }
  }

  /** A hit's row committed: its saving counts. */
  served(answer: CachedAnswer): void {
    this.metrics.savedPicos(answer.costPicos);
  }
}

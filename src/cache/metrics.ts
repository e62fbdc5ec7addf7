import { Counter, Gauge, type Registry } from 'prom-client';
import { picosToUsd } from '../money.js';
import type { ResponseCacheStore } from './store.js';

/**
 * The response cache's Prometheus figures. Made before the gateway's registry exists (the cache is built with the
 * completion service) and registered on it afterwards, so two apps in one process never share counters.
 */
export class CacheMetrics {
  readonly hits = new Counter({ name: 'switchboard_cache_hits_total', help: 'Requests answered from the response cache', registers: [] });
  readonly misses = new Counter({ name: 'switchboard_cache_misses_total', help: 'Opted-in requests the response cache could not answer', registers: [] });
  readonly bypasses = new Counter({ name: 'switchboard_cache_bypasses_total', help: 'Requests that skipped the cache lookup (Cache-Control: no-cache, bypass: true)', registers: [] });
  readonly evictions = new Counter({ name: 'switchboard_cache_evictions_total', help: 'Cached answers evicted to keep the cache under its size bound', registers: [] });
  readonly errors = new Counter({ name: 'switchboard_cache_errors_total', help: 'Cache reads and writes that failed (the request went on without the cache)', registers: [] });
  private readonly saved = new Counter({ name: 'switchboard_cache_saved_usd_total', help: 'What the answers served from the cache cost when a provider produced them, in US dollars', registers: [] });
  private readonly bytes: Gauge;
  private readonly entries: Gauge;

  constructor(store: ResponseCacheStore) {
    const stats = (): Promise<{ entries: number; bytes: number }> => store.stats().catch(() => ({ entries: 0, bytes: 0 }));
    this.bytes = new Gauge({
      name: 'switchboard_cache_bytes',
      help: 'Bytes of cached answers stored',
      registers: [],
      async collect() {
        this.set((await stats()).bytes);
      },
    });
    this.entries = new Gauge({
      name: 'switchboard_cache_entries',
      help: 'Cached answers stored',
      registers: [],
      async collect() {
        this.set((await stats()).entries);
      },
    });
  }

  savedPicos(picos: number | null): void {
    if (picos !== null && picos > 0) this.saved.inc(picosToUsd(picos));
  }

  register(registry: Registry): void {
    for (const metric of [this.hits, this.misses, this.bypasses, this.evictions, this.errors, this.saved, this.bytes, this.entries]) registry.registerMetric(metric);
  }
}

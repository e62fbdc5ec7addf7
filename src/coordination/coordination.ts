import { Counter, Gauge, type Registry } from 'prom-client';
import { InMemoryBudgetStore, type BudgetStore } from '../auth/budget.js';
import { InMemoryRateLimitStore, type RateLimitStore } from '../auth/rate-limiter.js';
import { InMemoryStreamSlots, type StreamSlots } from '../auth/stream-slots.js';
import type { RedisConfig } from '../config.js';
import type { Logger } from '../logger.js';
import type { RouterState } from '../routing/health.js';
import type { FinishedRows } from '../usage/events.js';
import { RedisBudgetStore } from './budget-store.js';
import { LocalChangeFeed, type ChangeFeed } from './change-feed.js';
import { HealthGossipRelay } from './health-gossip.js';
import { RedisRateLimitStore } from './rate-limit-store.js';
import { RedisChangeFeed } from './redis-change-feed.js';
import { SharedState, type SharedPart } from './shared-state.js';
import { RedisStreamSlots } from './stream-slots.js';
import { UsageRelay } from './usage-relay.js';

/** What instances share, or keep to themselves: the stores admission uses and the feeds that cross instances. */
export interface Coordination {
  rates: RateLimitStore;
  streams: StreamSlots;
  budgets: BudgetStore;
  changes: ChangeFeed;
  /** The Redis connection; undefined for a single instance. */
  shared: SharedState | undefined;
  /** Connects routing health and usageEvents to the other instances, and adds the Redis figures to /metrics. */
  attach(parts: { finished: FinishedRows; router: RouterState; registry: Registry }): Promise<void>;
  /** Waits (bounded) for Redis before serving, so the first requests are shared too; false when it did not come. */
  ready(timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Without REDIS_URL everything stays in this process, exactly as one instance always behaved. With it, rate
 * limits, stream caps and budget reservations live in Redis (atomic scripts), routing health is gossiped, and
 * usageEvents and cache invalidations are published to every instance.
 */
export function createCoordination(config: RedisConfig | undefined, logger: Logger, now: () => number = Date.now): Coordination {
  if (config === undefined) {
    const changes = new LocalChangeFeed();
    return {
      // On the injected clock, so a test's limits refill (and report their resets) on its time, not the machine's.
      rates: new InMemoryRateLimitStore(now),
      streams: new InMemoryStreamSlots(),
      budgets: new InMemoryBudgetStore(),
      changes,
      shared: undefined,
      attach: async () => undefined,
      ready: async () => true,
      close: () => changes.close(),
    };
  }
  const shared = new SharedState(config, logger);
  const streams = new RedisStreamSlots(shared);
  const changes = new RedisChangeFeed(shared);
  let gossip: HealthGossipRelay | undefined;
  let relay: UsageRelay | undefined;
  changes.start();
  return {
    rates: new RedisRateLimitStore(shared),
    streams,
    budgets: new RedisBudgetStore(shared),
    changes,
    shared,
    async attach({ finished, router, registry }) {
      gossip = new HealthGossipRelay(shared, router);
      relay = new UsageRelay(shared, finished);
      registerSharedStateMetrics(registry, shared);
      gossip.start();
      relay.start();
    },
    ready: (timeoutMs) => shared.ready(timeoutMs),
    async close() {
      streams.close();
      relay?.close();
      gossip?.close();
      await changes.close();
      // Let the last gossip and usage messages leave before the connection goes.
      await shared.run((client) => client.ping()).catch(() => undefined);
      await shared.close();
    },
  };
}

const PARTS: readonly SharedPart[] = ['rate_limits', 'streams', 'budgets'];

function registerSharedStateMetrics(registry: Registry, shared: SharedState): void {
  const registers = [registry];
  new Gauge({
    name: 'switchboard_redis_up',
    help: 'Whether the shared-state Redis (REDIS_URL) answered the last command: 1 reachable, 0 not',
    registers,
    collect() {
      this.set(shared.reachable ? 1 : 0);
    },
  });
  new Counter({
    name: 'switchboard_redis_round_trips_total',
    help: 'Commands and pipelines sent to the shared-state Redis, each one round trip',
    registers,
    collect() {
      this.reset();
      this.inc(shared.roundTrips);
    },
  });
  new Counter({
    name: 'switchboard_redis_fallbacks_total',
    help: 'Decisions taken per instance because Redis was unreachable (SWITCHBOARD_REDIS_FAILURE=open), by part',
    labelNames: ['part'],
    registers,
    collect() {
      this.reset();
      for (const part of PARTS) this.inc({ part }, shared.fallbacks.get(part) ?? 0);
    },
  });
  new Counter({
    name: 'switchboard_redis_refusals_total',
    help: 'Requests refused because Redis was unreachable (budgets always; limits with SWITCHBOARD_REDIS_FAILURE=closed), by part',
    labelNames: ['part'],
    registers,
    collect() {
      this.reset();
      for (const part of PARTS) this.inc({ part }, shared.refusals.get(part) ?? 0);
    },
  });
}

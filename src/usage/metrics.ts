import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AttemptRecord, GenerationRow } from '../db/schema.js';
import { picosToUsd } from '../money.js';

/** Read at scrape time, so they cost nothing between scrapes. */
export interface MetricSources {
  activeCompletions: () => number;
  recorderQueueDepth: () => number;
  recorderWaitingFinishes: () => number;
  usageEventSubscribers: () => number;
  usageEventSubscribersOverflowed: () => number;
}

export interface GatewayMetricsOptions {
  /** Process metrics (CPU, memory, event loop, GC); off in tests that build many apps in one process. */
  defaultMetrics?: boolean;
}

const LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const FIRST_TOKEN_BUCKETS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const OVERHEAD_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

/**
 * Models addressed directly (`provider/anything`) are not in the catalog: one label for all of them keeps a
 * caller from minting a time series per request.
 */
const UNCATALOGED = 'uncataloged';

function modelLabel(row: GenerationRow): string {
  return row.modelId ?? UNCATALOGED;
}

function providerLabel(row: GenerationRow): string {
  return row.providerId ?? 'none';
}

const HEDGE_LOST = 'HEDGE_LOST';

const endpointOf = (attempt: AttemptRecord): string => `${attempt.providerId}\u0000${attempt.providerModelId}`;

/** Routing numbers an endpoint's tries; rows from before it did are read by their order. */
function isRetry(attempt: AttemptRecord, previous: AttemptRecord | undefined): boolean {
  if (attempt.retry !== undefined) return attempt.retry > 0;
  return previous !== undefined && endpointOf(previous) === endpointOf(attempt);
}

/** More than one endpoint tried in turn; a hedge runs beside the others rather than after a failure. */
function fellBack(attempts: readonly AttemptRecord[]): boolean {
  return new Set(attempts.filter((attempt) => attempt.hedged !== true).map(endpointOf)).size > 1;
}

/**
 * Time spent waiting on providers: the union of the attempts' intervals when they say when they started (hedged
 * attempts overlap), otherwise their sum (attempts ran one after another).
 */
function upstreamMs(attempts: readonly AttemptRecord[]): number {
  if (!attempts.every((attempt) => attempt.startedAfterMs !== undefined)) return attempts.reduce((sum, attempt) => sum + attempt.latencyMs, 0);
  const intervals = attempts.map((attempt) => [attempt.startedAfterMs!, attempt.startedAfterMs! + attempt.latencyMs] as const).sort((a, b) => a[0] - b[0]);
  let covered = 0;
  let reach = -Infinity;
  for (const [start, end] of intervals) {
    if (end <= reach) continue;
    covered += end - Math.max(start, reach);
    reach = end;
  }
  return covered;
}

/**
 * The gateway's Prometheus metrics, on a registry of their own (never prom-client's global one, so two apps in
 * one process — tests — do not share counters). Everything request-related is derived from finished ledger rows.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'model' | 'provider' | 'status'>;
  private readonly duration: Histogram<'model' | 'provider' | 'status'>;
  private readonly firstToken: Histogram<'model' | 'provider'>;
  private readonly tokens: Counter<'model' | 'provider' | 'type'>;
  private readonly cost: Counter<'model' | 'provider'>;
  private readonly unpriced: Counter<'model' | 'provider'>;
  private readonly upstreamErrors: Counter<'provider' | 'code'>;
  private readonly retries: Counter<'provider'>;
  private readonly fallbacks: Counter<'model' | 'provider'>;
  private readonly overhead: Histogram;
  private readonly circuitBreakers: Gauge;
  private readonly httpRequests: Counter<'route' | 'status'>;
  private readonly shedRequests: Counter<'transport'>;

  constructor(sources: MetricSources, options: GatewayMetricsOptions = {}) {
    const registers = [this.registry];
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });

    this.requests = new Counter({ name: 'switchboard_requests_total', help: 'Finished requests by model, provider and final status', labelNames: ['model', 'provider', 'status'], registers });
    this.duration = new Histogram({
      name: 'switchboard_request_duration_seconds',
      help: 'End-to-end latency of finished requests, seen from the gateway',
      labelNames: ['model', 'provider', 'status'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.firstToken = new Histogram({
      name: 'switchboard_time_to_first_token_seconds',
      help: 'Time from request to the first streamed token',
      labelNames: ['model', 'provider'],
      buckets: FIRST_TOKEN_BUCKETS,
      registers,
    });
    this.tokens = new Counter({ name: 'switchboard_tokens_total', help: 'Tokens used, by type (prompt, completion)', labelNames: ['model', 'provider', 'type'], registers });
    this.cost = new Counter({ name: 'switchboard_cost_usd_total', help: 'Cost in US dollars of priced requests', labelNames: ['model', 'provider'], registers });
    this.unpriced = new Counter({ name: 'switchboard_unpriced_requests_total', help: 'Requests whose price was unknown (not in switchboard_cost_usd_total)', labelNames: ['model', 'provider'], registers });
    this.upstreamErrors = new Counter({ name: 'switchboard_upstream_errors_total', help: 'Failed provider attempts by provider and error code', labelNames: ['provider', 'code'], registers });
    this.retries = new Counter({
      name: 'switchboard_retries_total',
      help: 'Attempts that tried an endpoint again after it failed (by its provider)',
      labelNames: ['provider'],
      registers,
    });
    this.fallbacks = new Counter({
      name: 'switchboard_fallbacks_total',
      help: 'Requests that tried more than one endpoint in turn, hedges aside (by the model and provider they ended on)',
      labelNames: ['model', 'provider'],
      registers,
    });
    this.overhead = new Histogram({
      name: 'switchboard_gateway_overhead_seconds',
      help: "Latency the gateway added: a request's latency minus the time spent in provider attempts",
      buckets: OVERHEAD_BUCKETS,
      registers,
    });
    this.circuitBreakers = new Gauge({ name: 'switchboard_circuit_breakers_open', help: 'Provider endpoints whose circuit breaker is open', registers });
    this.circuitBreakers.set(0);
    // Every HTTP request, refusals included (401, 404, 429, CSRF 403…), which never become ledger rows when anonymous.
    this.httpRequests = new Counter({
      name: 'switchboard_http_requests_total',
      help: 'HTTP requests by route template and response status, refusals included',
      labelNames: ['route', 'status'],
      registers,
    });
    this.shedRequests = new Counter({
      name: 'switchboard_shed_requests_total',
      help: 'Requests and WebSocket operations refused with 503 because SWITCHBOARD_MAX_INFLIGHT were in flight',
      labelNames: ['transport'],
      registers,
    });
    new Gauge({
      name: 'switchboard_active_completions',
      help: 'Completions in flight (streamed and not)',
      registers,
      collect() {
        this.set(sources.activeCompletions());
      },
    });
    new Gauge({
      name: 'switchboard_recorder_queue_depth',
      help: 'Ledger rows not yet committed (queued, plus finishes waiting for room)',
      registers,
      collect() {
        this.set(sources.recorderQueueDepth());
      },
    });
    new Gauge({
      name: 'switchboard_recorder_waiting_finishes',
      help: 'Requests held back because the ledger queue is full (back-pressure)',
      registers,
      collect() {
        this.set(sources.recorderWaitingFinishes());
      },
    });
    new Gauge({
      name: 'switchboard_usage_event_subscribers',
      help: 'Open usageEvents subscriptions',
      registers,
      collect() {
        this.set(sources.usageEventSubscribers());
      },
    });
    new Counter({
      name: 'switchboard_usage_event_subscribers_overflowed_total',
      help: 'usageEvents subscriptions closed because they fell too far behind',
      registers,
      collect() {
        this.reset();
        this.inc(sources.usageEventSubscribersOverflowed());
      },
    });
  }

  /** Routing will call this as breakers open and close. */
  setOpenCircuitBreakers(count: number): void {
    this.circuitBreakers.set(count);
  }

  /** `route` must be a template (src/http/access-log.ts routeTemplate), never a raw path: labels stay few. */
  observeHttpRequest(route: string, status: number): void {
    this.httpRequests.inc({ route, status: String(status) });
  }

  shed(transport: 'http' | 'websocket'): void {
    this.shedRequests.inc({ transport });
  }

  observe(rows: readonly GenerationRow[]): void {
    for (const row of rows) this.observeOne(row);
  }

  private observeOne(row: GenerationRow): void {
    const model = modelLabel(row);
    const provider = providerLabel(row);
    this.requests.inc({ model, provider, status: row.status });
    if (row.latencyMs !== null) this.duration.observe({ model, provider, status: row.status }, row.latencyMs / 1000);
    if (row.timeToFirstTokenMs !== null) this.firstToken.observe({ model, provider }, row.timeToFirstTokenMs / 1000);
    if (row.promptTokens > 0) this.tokens.inc({ model, provider, type: 'prompt' }, row.promptTokens);
    if (row.completionTokens > 0) this.tokens.inc({ model, provider, type: 'completion' }, row.completionTokens);
    if (row.costPicos === null) this.unpriced.inc({ model, provider });
    else if (row.costPicos > 0) this.cost.inc({ model, provider }, picosToUsd(row.costPicos));

    const attempts = row.attempts ?? [];
    for (const attempt of attempts) {
      // A hedge that lost the race was stopped by us, not failed by the provider.
      if (attempt.status === 'FAILED' && attempt.errorCode !== HEDGE_LOST) this.upstreamErrors.inc({ provider: attempt.providerId, code: attempt.errorCode ?? 'UNKNOWN' });
    }
    for (const [index, attempt] of attempts.entries()) if (isRetry(attempt, attempts[index - 1])) this.retries.inc({ provider: attempt.providerId });
    if (fellBack(attempts)) this.fallbacks.inc({ model, provider });
    if (row.latencyMs !== null) this.overhead.observe(Math.max(0, row.latencyMs - upstreamMs(attempts)) / 1000);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}

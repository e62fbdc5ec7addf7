import { systemClock, type Clock } from '../clock.js';
import { CircuitBreaker, type CircuitState } from './breaker.js';
import type { BreakerConfig } from './config.js';

/** Which endpoint: a provider's model, and the catalog model it serves when known. */
export interface EndpointRef {
  providerId: string;
  providerModelId: string;
  modelId: string | null;
}

export function endpointKey(ref: Pick<EndpointRef, 'providerId' | 'providerModelId'>): string {
  return `${ref.providerId}\u0000${ref.providerModelId}`;
}

/** Recent figures of one endpoint or of a provider's endpoints together, as `Provider.health` shows them. */
export interface HealthSnapshot {
  state: CircuitState;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  timeToFirstTokenP50Ms: number | null;
  timeToFirstTokenP95Ms: number | null;
  /** Failed attempts over attempts in the window; 0 with no attempts. */
  errorRate: number;
  requests: number;
  failures: number;
  lastError: string | null;
  lastErrorCode: string | null;
  lastErrorAt: number | null;
}

export interface EndpointSnapshot extends HealthSnapshot, EndpointRef {
  consecutiveFailures: number;
  /** When an open circuit lets a probe through. */
  retryAt: number | null;
}

interface Sample {
  at: number;
  value: number;
}

/** An exponentially weighted moving average: recent observations count most, so a recovered endpoint catches up fast. */
export class MovingAverage {
  private current: number | null = null;
  constructor(private readonly alpha = 0.3) {}
  get value(): number | null {
    return this.current;
  }
  add(value: number): void {
    this.current = this.current === null ? value : this.current + this.alpha * (value - this.current);
  }
}

const MAX_SAMPLES = 500;

function pushBounded<T>(list: T[], item: T): void {
  list.push(item);
  if (list.length > MAX_SAMPLES) list.splice(0, list.length - MAX_SAMPLES);
}

/** Nearest-rank percentile of unsorted values; null for none. */
export function percentile(values: readonly number[], fraction: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[rank] ?? null;
}

const MAX_UNCATALOGED_ENDPOINTS = 200;

/** An outcome on one endpoint, as other gateway instances are told of it (src/coordination/health-gossip.ts). */
export type HealthEvent =
  | { kind: 'succeeded'; latencyMs: number; completionTokens: number | null; generatingMs: number | null }
  | { kind: 'failed'; message: string; code: string }
  | { kind: 'firstToken'; ms: number; streamed: boolean };

/** Where an instance sends its own endpoints' outcomes and circuit changes, for the others to adopt. */
export interface HealthGossip {
  outcome(ref: EndpointRef, event: HealthEvent): void;
  breaker(ref: EndpointRef, openedAt: number | null): void;
}

const STATE_SEVERITY: Record<CircuitState, number> = { CLOSED: 0, HALF_OPEN: 1, OPEN: 2 };

/** Everything routing knows about one endpoint, in memory for the life of the process. */
export class EndpointHealth {
  readonly breaker: CircuitBreaker;
  /** Whole-request latency of successful attempts, and time to first token of streamed ones. */
  readonly latency = new MovingAverage();
  readonly timeToFirstToken = new MovingAverage();
  /** Completion tokens per second while streaming out. */
  readonly throughput = new MovingAverage();
  /** Routing decisions since this endpoint was last put first: the latency strategy explores it when this grows. */
  passedOver = 0;
  /** Whether any attempt on it has ended, so a missing figure means "only failed" rather than "never tried". */
  tried = false;
  private readonly latencySamples: Sample[] = [];
  private readonly firstTokenSamples: Sample[] = [];
  private readonly outcomes: Array<{ at: number; failed: boolean }> = [];
  private lastError: { message: string; code: string; at: number } | null = null;
  /** Sees this instance's own outcomes (not adopted ones), to gossip them. */
  observer: ((event: HealthEvent) => void) | undefined;

  constructor(
    public ref: EndpointRef,
    breaker: BreakerConfig,
  ) {
    this.breaker = new CircuitBreaker(breaker);
  }

  /**
   * An outcome another instance saw: it feeds the figures and latency averages as one of ours would, but not this
   * instance's breaker, which opens on its own evidence or when another instance's breaker opened (adopt).
   */
  adopt(event: HealthEvent, now: number): void {
    if (event.kind === 'succeeded') this.recordSuccess(event.latencyMs, event.completionTokens, event.generatingMs, now);
    else if (event.kind === 'failed') this.recordFailure(event.message, event.code, now);
    else this.recordFirstToken(event.ms, event.streamed, now);
  }

  firstToken(ms: number, streamed: boolean, now: number): void {
    this.recordFirstToken(ms, streamed, now);
    this.observer?.({ kind: 'firstToken', ms, streamed });
  }

  succeeded(latencyMs: number, completionTokens: number | null, generatingMs: number | null, now: number): void {
    this.recordSuccess(latencyMs, completionTokens, generatingMs, now);
    this.observer?.({ kind: 'succeeded', latencyMs, completionTokens, generatingMs });
  }

  failed(message: string, code: string, now: number): void {
    this.recordFailure(message, code, now);
    this.observer?.({ kind: 'failed', message, code });
  }

  private recordFirstToken(ms: number, streamed: boolean, now: number): void {
    if (streamed) {
      this.timeToFirstToken.add(ms);
      pushBounded(this.firstTokenSamples, { at: now, value: ms });
    }
  }

  private recordSuccess(latencyMs: number, completionTokens: number | null, generatingMs: number | null, now: number): void {
    this.tried = true;
    this.latency.add(latencyMs);
    pushBounded(this.latencySamples, { at: now, value: latencyMs });
    pushBounded(this.outcomes, { at: now, failed: false });
    if (completionTokens !== null && completionTokens > 0 && generatingMs !== null && generatingMs > 0) this.throughput.add((completionTokens * 1000) / generatingMs);
  }

  private recordFailure(message: string, code: string, now: number): void {
    this.tried = true;
    pushBounded(this.outcomes, { at: now, failed: true });
    this.lastError = { message, code, at: now };
  }

  /**
   * How long an attempt waited without an answer before it timed out or lost a hedge: a lower bound of the
   * endpoint's latency, which keeps a stalled endpoint from looking fast merely for never answering.
   */
  waited(ms: number, streamed: boolean): void {
    this.tried = true;
    const average = streamed ? this.timeToFirstToken : this.latency;
    if (average.value === null || ms > average.value) average.add(ms);
  }

  /** The moving average the latency strategy ranks by: time to first token for streams, else whole latency. */
  expectedLatency(streamed: boolean): number | null {
    return streamed ? (this.timeToFirstToken.value ?? this.latency.value) : (this.latency.value ?? this.timeToFirstToken.value);
  }

  recentFirstTokenP95(now: number, windowMs: number): number | null {
    return percentile(recent(this.firstTokenSamples, now, windowMs), 0.95);
  }

  recentLatencyP95(now: number, windowMs: number): number | null {
    return percentile(recent(this.latencySamples, now, windowMs), 0.95);
  }

  snapshot(now: number, windowMs: number): EndpointSnapshot {
    return {
      ...this.ref,
      ...summarize([this], now, windowMs),
      consecutiveFailures: this.breaker.failuresInARow,
      retryAt: this.breaker.state(now) === 'CLOSED' ? null : this.breaker.retryAt(),
    };
  }

  /** The raw material of a provider's aggregate. */
  window(now: number, windowMs: number): { latency: number[]; firstToken: number[]; outcomes: boolean[]; lastError: { message: string; code: string; at: number } | null } {
    return {
      latency: recent(this.latencySamples, now, windowMs),
      firstToken: recent(this.firstTokenSamples, now, windowMs),
      outcomes: this.outcomes.filter((outcome) => outcome.at >= now - windowMs).map((outcome) => outcome.failed),
      lastError: this.lastError,
    };
  }
}

function recent(samples: readonly Sample[], now: number, windowMs: number): number[] {
  const since = now - windowMs;
  return samples.filter((sample) => sample.at >= since).map((sample) => sample.value);
}

/** Figures over several endpoints: samples pooled, the worst circuit state, the latest error. */
export function summarize(endpoints: readonly EndpointHealth[], now: number, windowMs: number): HealthSnapshot {
  const latency: number[] = [];
  const firstToken: number[] = [];
  let requests = 0;
  let failures = 0;
  let state: CircuitState = 'CLOSED';
  let lastError: { message: string; code: string; at: number } | null = null;
  for (const endpoint of endpoints) {
    const window = endpoint.window(now, windowMs);
    latency.push(...window.latency);
    firstToken.push(...window.firstToken);
    requests += window.outcomes.length;
    failures += window.outcomes.filter(Boolean).length;
    const endpointState = endpoint.breaker.state(now);
    if (STATE_SEVERITY[endpointState] > STATE_SEVERITY[state]) state = endpointState;
    if (window.lastError && (lastError === null || window.lastError.at > lastError.at)) lastError = window.lastError;
  }
  const round = (value: number | null): number | null => (value === null ? null : Math.round(value));
  return {
    state,
    latencyP50Ms: round(percentile(latency, 0.5)),
    latencyP95Ms: round(percentile(latency, 0.95)),
    timeToFirstTokenP50Ms: round(percentile(firstToken, 0.5)),
    timeToFirstTokenP95Ms: round(percentile(firstToken, 0.95)),
    errorRate: requests === 0 ? 0 : failures / requests,
    requests,
    failures,
    lastError: lastError?.message ?? null,
    lastErrorCode: lastError?.code ?? null,
    lastErrorAt: lastError?.at ?? null,
  };
}

export interface RouterStateOptions {
  breaker: BreakerConfig;
  /** How far back `Provider.health` figures and hedge p95 delays look. */
  figuresWindowMs?: number;
  /** What breaker states and the figures' window are read against; the router's clock. */
  clock?: Clock;
}

/**
 * The health of every endpoint this process has called, kept in memory: circuit breakers, moving averages for the
 * latency and throughput strategies, and the recent figures `Provider.health` shows. Created once in buildApp.
 */
export class RouterState {
  readonly figuresWindowMs: number;
  readonly clock: Clock;
  private readonly endpoints = new Map<string, EndpointHealth>();
  private readonly breakerListeners: Array<(open: number) => void> = [];
  private readonly breakerConfig: BreakerConfig;
  private lastOpenCount = 0;
  private gossip: HealthGossip | undefined;

  constructor(options: RouterStateOptions) {
    this.breakerConfig = options.breaker;
    this.figuresWindowMs = options.figuresWindowMs ?? 300_000;
    this.clock = options.clock ?? systemClock;
  }

  endpoint(ref: EndpointRef): EndpointHealth {
    const key = endpointKey(ref);
    let health = this.endpoints.get(key);
    if (!health) {
      health = new EndpointHealth(ref, this.breakerConfig);
      this.endpoints.set(key, health);
      if (this.gossip) this.tell(health, this.gossip);
      if (ref.modelId === null) this.boundUncataloged(key);
    } else if (health.ref.modelId === null && ref.modelId !== null) {
      // First seen addressed directly, since found in the catalog: keep the better name.
      health.ref = ref;
    }
    return health;
  }

  /**
   * Models addressed directly (`provider/anything`) are named by the caller, who could mint endpoints without end:
   * past a bound, the oldest of them whose circuit is closed is forgotten.
   */
  private boundUncataloged(added: string): void {
    const uncataloged = [...this.endpoints.entries()].filter(([, endpoint]) => endpoint.ref.modelId === null);
    if (uncataloged.length <= MAX_UNCATALOGED_ENDPOINTS) return;
    const now = this.clock.now();
    const oldest = uncataloged.find(([key, endpoint]) => key !== added && endpoint.breaker.state(now) === 'CLOSED');
    if (oldest) this.endpoints.delete(oldest[0]);
  }

  /** Sends every endpoint's own outcomes and circuit changes to `gossip` from now on (one call, at start-up). */
  shareWith(gossip: HealthGossip): void {
    this.gossip = gossip;
    for (const endpoint of this.endpoints.values()) this.tell(endpoint, gossip);
  }

  private tell(endpoint: EndpointHealth, gossip: HealthGossip): void {
    endpoint.observer = (event) => gossip.outcome(endpoint.ref, event);
    endpoint.breaker.onChange = (openedAt) => gossip.breaker(endpoint.ref, openedAt);
  }

  /** An outcome another instance saw on `ref`. */
  adoptOutcome(ref: EndpointRef, event: HealthEvent): void {
    this.endpoint(ref).adopt(event, this.clock.now());
  }

  /** Another instance opened (open: true, cooling down from now here) or closed `ref`'s circuit. */
  adoptBreaker(ref: EndpointRef, open: boolean): void {
    this.endpoint(ref).breaker.adopt(open ? this.clock.now() : null);
    this.breakersMayHaveChanged();
  }

  /** Known without creating an entry, for read paths. */
  find(ref: Pick<EndpointRef, 'providerId' | 'providerModelId'>): EndpointHealth | undefined {
    return this.endpoints.get(endpointKey(ref));
  }

  endpointsOf(providerId: string): EndpointHealth[] {
    return [...this.endpoints.values()].filter((endpoint) => endpoint.ref.providerId === providerId);
  }

  providerHealth(providerId: string): HealthSnapshot & { endpoints: EndpointSnapshot[] } {
    const now = this.clock.now();
    const endpoints = this.endpointsOf(providerId);
    return {
      ...summarize(endpoints, now, this.figuresWindowMs),
      endpoints: endpoints.map((endpoint) => endpoint.snapshot(now, this.figuresWindowMs)),
    };
  }

  /** Endpoints whose circuit is not closed (open or waiting for its probe). */
  openBreakers(): number {
    const now = this.clock.now();
    let open = 0;
    for (const endpoint of this.endpoints.values()) if (endpoint.breaker.state(now) !== 'CLOSED') open++;
    return open;
  }

  /** Called with the number of open circuits whenever one opens or closes (the Prometheus gauge). */
  onOpenBreakersChanged(listener: (open: number) => void): void {
    this.breakerListeners.push(listener);
    listener(this.openBreakers());
  }

  /** Routing calls this after an outcome that may have opened or closed a circuit. */
  breakersMayHaveChanged(): void {
    const open = this.openBreakers();
    if (open === this.lastOpenCount) return;
    this.lastOpenCount = open;
    for (const listener of this.breakerListeners) listener(open);
  }
}

import type { BreakerConfig } from './config.js';

export type CircuitState = 'CLOSED' | 'OPEN' | 'HALF_OPEN';

/** What a caller holds while its attempt runs: whether it is the half-open probe decides what its outcome does. */
export type Permit = 'closed' | 'probe';

/**
 * Which request an outcome belongs to (routing gives each run of attempts its own). A request's retries on one
 * endpoint are one piece of evidence, not several: five failing attempts of one request say less about the
 * endpoint than five failing callers, and the request itself may be what fails.
 */
export type RequestKey = string;

interface Outcome {
  at: number;
  failed: boolean;
  /** Set on failures, so a request's further failures in the window are recognised and not counted again. */
  request?: RequestKey;
}

/**
 * One endpoint's circuit breaker. Closed, it counts outcomes, a request's failures once however often it retried;
 * it opens after `failureThreshold` consecutive failing requests or when the failure rate over the window passes
 * `failureRate` — either only once the failures in the window come from at least `minimumFailingRequests`
 * distinct requests, so no single caller shuts an endpoint for everyone (opossum's volumeThreshold, Polly's
 * MinimumThroughput, resilience4j's minimumNumberOfCalls). Open, it refuses every attempt for `cooldownMs`;
 * then it is half-open and lets exactly one probe through: the probe's success closes it, its failure opens it again.
 * Time is passed in, so tests need no fake timers.
 */
export class CircuitBreaker {
  private opened: number | null = null;
  private probing = false;
  private consecutiveFailures = 0;
  private outcomes: Outcome[] = [];
  /**
   * Told when this breaker opens (with the time) or closes (null) on its own evidence, so other gateway instances
   * can adopt it (src/coordination/health-gossip.ts); adopted changes are not told again.
   */
  onChange: ((openedAt: number | null) => void) | undefined;

  constructor(private readonly config: BreakerConfig) {}

  /**
   * Another instance opened (a time) or closed (null) this endpoint's circuit. Open, it cools down from `at` here
   * as there; a probe this instance has in flight settles as usual.
   */
  adopt(openedAt: number | null): void {
    if (openedAt === null) {
      if (this.opened !== null) this.reset();
      return;
    }
    if (this.opened === null || openedAt > this.opened) this.opened = openedAt;
  }

  state(now: number): CircuitState {
    if (this.opened === null) return 'CLOSED';
    return now - this.opened >= this.config.cooldownMs ? 'HALF_OPEN' : 'OPEN';
  }

  /** When an open circuit lets its probe through; null when closed. */
  retryAt(): number | null {
    return this.opened === null ? null : this.opened + this.config.cooldownMs;
  }

  get failuresInARow(): number {
    return this.consecutiveFailures;
  }

  /** Null when the attempt must not be made; a probe permit is exclusive until it is settled. */
  acquire(now: number): Permit | null {
    const state = this.state(now);
    if (state === 'CLOSED') return 'closed';
    if (state === 'OPEN' || this.probing) return null;
    this.probing = true;
    return 'probe';
  }

  /** Whether `acquire` would succeed, without taking the probe. */
  available(now: number): boolean {
    const state = this.state(now);
    return state === 'CLOSED' || (state === 'HALF_OPEN' && !this.probing);
  }

  succeeded(permit: Permit, now: number): void {
    if (permit === 'probe') {
      this.close();
      return;
    }
    // An attempt that started before the circuit opened says too little to close it: that is the probe's job.
    if (this.opened !== null) return;
    this.consecutiveFailures = 0;
    this.push(now, false);
  }

  /** Returns true when this failure opened (or re-opened) the circuit. */
  failed(permit: Permit, now: number, request: RequestKey): boolean {
    if (permit === 'probe') {
      // The circuit was opened by several requests already; its one probe failing is reason enough to stay open.
      this.probing = false;
      this.opened = now;
      this.onChange?.(now);
      return true;
    }
    // A late failure from an attempt started before the circuit opened changes nothing more.
    if (this.opened !== null) return false;
    this.prune(now);
    // A retry of a request that already failed here in the window: the endpoint is not failing any more often.
    if (this.outcomes.some((outcome) => outcome.request === request)) return false;
    this.consecutiveFailures++;
    this.push(now, true, request);
    if (this.failingRequests() < this.config.minimumFailingRequests) return false;
    if (this.consecutiveFailures >= this.config.failureThreshold || this.rateExceeded()) {
      this.opened = now;
      this.onChange?.(now);
      return true;
    }
    return false;
  }

  /** An attempt that ended without telling anything about the endpoint (cancelled, lost a hedge). */
  released(permit: Permit): void {
    if (permit === 'probe') this.probing = false;
  }

  private close(): void {
    const wasOpen = this.opened !== null;
    this.reset();
    if (wasOpen) this.onChange?.(null);
  }

  private reset(): void {
    this.opened = null;
    this.probing = false;
    this.consecutiveFailures = 0;
    // The failures that opened it must not count against the endpoint once it has recovered.
    this.outcomes = [];
  }

  private push(now: number, failed: boolean, request?: RequestKey): void {
    this.outcomes.push(request === undefined ? { at: now, failed } : { at: now, failed, request });
    this.prune(now);
  }

  private prune(now: number): void {
    const since = now - this.config.windowMs;
    let drop = 0;
    while (drop < this.outcomes.length && (this.outcomes[drop]?.at ?? now) < since) drop++;
    if (drop > 0) this.outcomes.splice(0, drop);
  }

  /** Distinct requests among the failures in the window (each request has at most one failure there). */
  private failingRequests(): number {
    return this.outcomes.filter((outcome) => outcome.failed).length;
  }

  private rateExceeded(): boolean {
    if (this.outcomes.length < this.config.minimumRequests) return false;
    const failures = this.outcomes.filter((outcome) => outcome.failed).length;
    return failures / this.outcomes.length >= this.config.failureRate;
  }
}

import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { CircuitBreaker } from '../../src/routing/breaker.js';
import { RouterState } from '../../src/routing/health.js';

const config = { failureThreshold: 3, failureRate: 0.5, minimumRequests: 6, windowMs: 10_000, cooldownMs: 1_000 };

describe('the circuit breaker', () => {
  it('opens after consecutive failures, refuses while open, and lets one probe through when half-open', () => {
    const breaker = new CircuitBreaker(config);
    let now = 0;
    for (let index = 0; index < 2; index++) expect(breaker.failed(breaker.acquire(now) ?? 'closed', now)).toBe(false);
    expect(breaker.state(now)).toBe('CLOSED');
    expect(breaker.failed('closed', now)).toBe(true);
    expect(breaker.state(now)).toBe('OPEN');
    expect(breaker.acquire(now)).toBeNull();

    now = 999;
    expect(breaker.acquire(now)).toBeNull();
    now = 1_000;
    expect(breaker.state(now)).toBe('HALF_OPEN');
    expect(breaker.acquire(now)).toBe('probe');
    // The probe is exclusive: a second request is refused until it settles.
    expect(breaker.acquire(now)).toBeNull();
    expect(breaker.available(now)).toBe(false);

    breaker.succeeded('probe', now + 5);
    expect(breaker.state(now + 5)).toBe('CLOSED');
    expect(breaker.failuresInARow).toBe(0);
    expect(breaker.acquire(now + 5)).toBe('closed');
  });

  it('opens again when the probe fails, for another cool-down', () => {
    const breaker = new CircuitBreaker(config);
    for (let index = 0; index < 3; index++) breaker.failed('closed', 0);
    expect(breaker.acquire(1_000)).toBe('probe');
    expect(breaker.failed('probe', 1_200)).toBe(true);
    expect(breaker.state(1_500)).toBe('OPEN');
    expect(breaker.state(2_199)).toBe('OPEN');
    expect(breaker.state(2_200)).toBe('HALF_OPEN');
  });

  it('opens on the failure rate over its window even without consecutive failures', () => {
    const breaker = new CircuitBreaker(config);
    // fail, ok, fail, ok, fail: never 3 in a row, and under the 6-request minimum.
    for (const failed of [true, false, true, false, true]) {
      if (failed) breaker.failed('closed', 100);
      else breaker.succeeded('closed', 100);
    }
    expect(breaker.state(100)).toBe('CLOSED');
    expect(breaker.failed('closed', 100)).toBe(true);
    expect(breaker.state(100)).toBe('OPEN');
  });

  it('forgets failures that left the window', () => {
    const breaker = new CircuitBreaker({ ...config, failureThreshold: 100 });
    for (let index = 0; index < 5; index++) breaker.failed('closed', 0);
    for (let index = 0; index < 5; index++) breaker.succeeded('closed', 20_000);
    // 5 old failures are out of the window: 1 failure out of 6 recent outcomes.
    expect(breaker.failed('closed', 20_000)).toBe(false);
    expect(breaker.state(20_000)).toBe('CLOSED');
  });

  it('frees the probe of an attempt that was cancelled, so the next request probes', () => {
    const breaker = new CircuitBreaker(config);
    for (let index = 0; index < 3; index++) breaker.failed('closed', 0);
    expect(breaker.acquire(1_000)).toBe('probe');
    breaker.released('probe');
    expect(breaker.state(1_000)).toBe('HALF_OPEN');
    expect(breaker.acquire(1_000)).toBe('probe');
  });

  it('ignores a late success from an attempt started before it opened', () => {
    const breaker = new CircuitBreaker(config);
    for (let index = 0; index < 3; index++) breaker.failed('closed', 0);
    breaker.succeeded('closed', 10);
    expect(breaker.state(10)).toBe('OPEN');
  });
});

describe('the router state', () => {
  it('tells listeners how many circuits are open as they open and close', async () => {
    const clock = new ManualClock(0);
    const state = new RouterState({ breaker: config, clock });
    const seen: number[] = [];
    state.onOpenBreakersChanged((open) => seen.push(open));
    const groq = state.endpoint({ providerId: 'groq', providerModelId: 'llama', modelId: 'meta/llama' });
    for (let index = 0; index < 3; index++) groq.breaker.failed('closed', clock.now());
    state.breakersMayHaveChanged();
    await clock.advance(1_000);
    const now = clock.now();
    groq.breaker.succeeded(groq.breaker.acquire(now) ?? 'closed', now);
    state.breakersMayHaveChanged();
    expect(seen).toEqual([0, 1, 0]);
  });

  it('keeps a bounded number of endpoints for models addressed directly, never forgetting catalog ones', () => {
    const state = new RouterState({ breaker: config });
    state.endpoint({ providerId: 'openai', providerModelId: 'gpt-4o', modelId: 'openai/gpt-4o' });
    for (let index = 0; index < 500; index++) state.endpoint({ providerId: 'openai', providerModelId: `made-up-${index}`, modelId: null });
    const tracked = state.endpointsOf('openai');
    expect(tracked.length).toBeLessThanOrEqual(201);
    expect(tracked.some((endpoint) => endpoint.ref.providerModelId === 'gpt-4o')).toBe(true);
    expect(tracked.some((endpoint) => endpoint.ref.providerModelId === 'made-up-499')).toBe(true);
  });

  it('pools a provider’s endpoints: worst state, latest error, percentiles over every sample', () => {
    const now = 50_000;
    const state = new RouterState({ breaker: config, clock: new ManualClock(now) });
    const a = state.endpoint({ providerId: 'together', providerModelId: 'a', modelId: 'vendor/a' });
    const b = state.endpoint({ providerId: 'together', providerModelId: 'b', modelId: 'vendor/b' });
    for (const ms of [10, 20, 30, 40]) a.succeeded(ms, 10, ms, now);
    b.succeeded(1000, 10, 1000, now);
    b.failed('together returned 500: boom', 'PROVIDER_ERROR', now - 10);
    a.failed('together returned 503: busy', 'PROVIDER_ERROR', now - 5);
    for (let index = 0; index < 3; index++) b.breaker.failed('closed', now);

    const health = state.providerHealth('together');
    expect(health.state).toBe('OPEN');
    expect(health.requests).toBe(7);
    expect(health.failures).toBe(2);
    expect(health.errorRate).toBeCloseTo(2 / 7, 10);
    expect(health.latencyP50Ms).toBe(30);
    expect(health.latencyP95Ms).toBe(1000);
    expect(health.lastError).toBe('together returned 503: busy');
    expect(health.endpoints.map((endpoint) => [endpoint.providerModelId, endpoint.state])).toEqual([
      ['a', 'CLOSED'],
      ['b', 'OPEN'],
    ]);
    expect(state.providerHealth('nobody')).toMatchObject({ state: 'CLOSED', requests: 0, errorRate: 0, latencyP50Ms: null, endpoints: [] });
  });
});

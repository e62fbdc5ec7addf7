import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { CircuitBreaker } from '../../src/routing/breaker.js';
import { DEFAULT_ROUTING_CONFIG } from '../../src/routing/config.js';
import { RouterState } from '../../src/routing/health.js';
import { routeOver, runRoute, scriptedEndpoint, summary, testRouter } from './helpers.js';

const config = { failureThreshold: 3, failureRate: 0.5, minimumRequests: 6, minimumFailingRequests: 3, windowMs: 10_000, cooldownMs: 1_000 };

let requests = 0;
/** A request of its own for each failure, as separate callers' attempts are. */
const nextRequest = (): string => `request-${++requests}`;

describe('the circuit breaker', () => {
  it('opens after consecutive failures, refuses while open, and lets one probe through when half-open', () => {
    const breaker = new CircuitBreaker(config);
    let now = 0;
    for (let index = 0; index < 2; index++) expect(breaker.failed(breaker.acquire(now) ?? 'closed', now, nextRequest())).toBe(false);
    expect(breaker.state(now)).toBe('CLOSED');
    expect(breaker.failed('closed', now, nextRequest())).toBe(true);
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
    for (let index = 0; index < 3; index++) breaker.failed('closed', 0, nextRequest());
    expect(breaker.acquire(1_000)).toBe('probe');
    expect(breaker.failed('probe', 1_200, nextRequest())).toBe(true);
    expect(breaker.state(1_500)).toBe('OPEN');
    expect(breaker.state(2_199)).toBe('OPEN');
    expect(breaker.state(2_200)).toBe('HALF_OPEN');
  });

  it('opens on the failure rate over its window even without consecutive failures', () => {
    const breaker = new CircuitBreaker(config);
    // fail, ok, fail, ok, fail: never 3 in a row, and under the 6-request minimum.
    for (const failed of [true, false, true, false, true]) {
      if (failed) breaker.failed('closed', 100, nextRequest());
      else breaker.succeeded('closed', 100);
    }
    expect(breaker.state(100)).toBe('CLOSED');
    expect(breaker.failed('closed', 100, nextRequest())).toBe(true);
    expect(breaker.state(100)).toBe('OPEN');
  });

  it('forgets failures that left the window', () => {
    const breaker = new CircuitBreaker({ ...config, failureThreshold: 100 });
    for (let index = 0; index < 5; index++) breaker.failed('closed', 0, nextRequest());
    for (let index = 0; index < 5; index++) breaker.succeeded('closed', 20_000);
    // 5 old failures are out of the window: 1 failure out of 6 recent outcomes.
    expect(breaker.failed('closed', 20_000, nextRequest())).toBe(false);
    expect(breaker.state(20_000)).toBe('CLOSED');
  });

  it('frees the probe of an attempt that was cancelled, so the next request probes', () => {
    const breaker = new CircuitBreaker(config);
    for (let index = 0; index < 3; index++) breaker.failed('closed', 0, nextRequest());
    expect(breaker.acquire(1_000)).toBe('probe');
    breaker.released('probe');
    expect(breaker.state(1_000)).toBe('HALF_OPEN');
    expect(breaker.acquire(1_000)).toBe('probe');
  });

  it('ignores a late success from an attempt started before it opened', () => {
    const breaker = new CircuitBreaker(config);
    for (let index = 0; index < 3; index++) breaker.failed('closed', 0, nextRequest());
    breaker.succeeded('closed', 10);
    expect(breaker.state(10)).toBe('OPEN');
  });
});

describe('the circuit breaker and who failed', () => {
  it('counts one request’s failures once, however often it retried', () => {
    const breaker = new CircuitBreaker(config);
    for (let index = 0; index < 5; index++) expect(breaker.failed('closed', 100 + index, 'the same request')).toBe(false);
    expect(breaker.state(200)).toBe('CLOSED');
    expect(breaker.failuresInARow).toBe(1);
  });

  it('opens on consecutive failures only once they come from enough distinct requests', () => {
    const breaker = new CircuitBreaker({ ...config, failureThreshold: 1 });
    expect(breaker.failed('closed', 0, 'a')).toBe(false);
    expect(breaker.failed('closed', 0, 'a')).toBe(false);
    expect(breaker.failed('closed', 0, 'b')).toBe(false);
    expect(breaker.state(0)).toBe('CLOSED');
    expect(breaker.failed('closed', 0, 'c')).toBe(true);
    expect(breaker.state(0)).toBe('OPEN');
  });

  it('opens on the failure rate only once the failures come from enough distinct requests', () => {
    const breaker = new CircuitBreaker({ ...config, failureThreshold: 100, minimumRequests: 4 });
    breaker.succeeded('closed', 0);
    breaker.succeeded('closed', 0);
    // Two failing requests, one of them retried three times: 2 failures of 4 outcomes, from 2 requests.
    for (const request of ['a', 'a', 'a', 'b']) expect(breaker.failed('closed', 0, request)).toBe(false);
    expect(breaker.state(0)).toBe('CLOSED');
    expect(breaker.failed('closed', 0, 'c')).toBe(true);
  });

  it('counts a request again once its earlier failure left the window', () => {
    const breaker = new CircuitBreaker({ ...config, failureThreshold: 2, minimumFailingRequests: 1 });
    expect(breaker.failed('closed', 0, 'long request')).toBe(false);
    expect(breaker.failed('closed', 10_000, 'long request')).toBe(false);
    expect(breaker.failed('closed', 10_001, 'long request')).toBe(true);
  });
});

describe('circuits under one request’s retries, through routing', () => {
  it('stays closed when one request fails five times on an endpoint, so an unrelated caller is still routed there', async () => {
    const { router } = testRouter({ maxRetries: 4 });
    const a = scriptedEndpoint('a');
    const b = scriptedEndpoint('b');
    for (let index = 0; index < 5; index++) a.queue({ kind: 'fail', error: 'server_error', status: 500 });
    const failing = await runRoute(router, routeOver(router, [a.candidate]));
    expect(summary(failing.attempts)).toEqual(['a:FAILED:PROVIDER_ERROR', 'a:FAILED#1:PROVIDER_ERROR', 'a:FAILED#2:PROVIDER_ERROR', 'a:FAILED#3:PROVIDER_ERROR', 'a:FAILED#4:PROVIDER_ERROR']);
    expect(DEFAULT_ROUTING_CONFIG.breaker.failureThreshold).toBe(5);
    const health = router.state.endpoint({ providerId: 'a', providerModelId: 'a-model', modelId: null });
    expect(health.breaker.state(router.clock.now())).toBe('CLOSED');

    const unrelated = await runRoute(router, routeOver(router, [a.candidate, b.candidate]));
    expect(unrelated.winner).toBe('a');
    expect(a.calls).toHaveLength(6);
    expect(b.calls).toHaveLength(0);
  });

  it('opens once three distinct requests have failed there, however few attempts each made', async () => {
    // A threshold of one failure: the minimum of distinct failing requests (3 by default) is what holds it shut.
    const { router } = testRouter({ maxRetries: 2, breaker: { ...DEFAULT_ROUTING_CONFIG.breaker, failureThreshold: 1 } });
    const a = scriptedEndpoint('a');
    const b = scriptedEndpoint('b');
    const health = router.state.endpoint({ providerId: 'a', providerModelId: 'a-model', modelId: null });
    for (let request = 1; request <= 3; request++) {
      expect(health.breaker.state(router.clock.now())).toBe('CLOSED');
      a.queue({ kind: 'fail', error: 'server_error', status: 500 }, { kind: 'fail', error: 'server_error', status: 500 }, { kind: 'fail', error: 'server_error', status: 500 });
      const failing = await runRoute(router, routeOver(router, [a.candidate]));
      // The first two requests retry to the end; the third one's first failure opens the circuit and ends it.
      expect(failing.attempts).toHaveLength(request < 3 ? 3 : 1);
    }
    expect(health.breaker.state(router.clock.now())).toBe('OPEN');
    const calls = a.calls.length;
    const unrelated = await runRoute(router, routeOver(router, [a.candidate, b.candidate]));
    expect(unrelated.winner).toBe('b');
    expect(summary(unrelated.attempts)).toEqual(['b:SUCCEEDED']);
    expect(a.calls).toHaveLength(calls);
  });
});

describe('the router state', () => {
  it('tells listeners how many circuits are open as they open and close', async () => {
    const clock = new ManualClock(0);
    const state = new RouterState({ breaker: config, clock });
    const seen: number[] = [];
    state.onOpenBreakersChanged((open) => seen.push(open));
    const groq = state.endpoint({ providerId: 'groq', providerModelId: 'llama', modelId: 'meta/llama' });
    for (let index = 0; index < 3; index++) groq.breaker.failed('closed', clock.now(), nextRequest());
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
    for (let index = 0; index < 3; index++) b.breaker.failed('closed', now, nextRequest());

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

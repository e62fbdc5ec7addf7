import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SHARED_MODELS, ask, attemptSummary, startRoutingFixture, type RoutingFixture } from './fixture.js';
// Not waitFor from helpers/subscriptions: its deadline reads Date.now, which is frozen here.
import { eventually } from './helpers.js';

const COOLDOWN_MS = 400;
let fixture: RoutingFixture;
beforeAll(async () => {
  // Two failing requests open a circuit here (the default asks for 3 distinct ones), to keep the steps short.
  fixture = await startRoutingFixture({
    SWITCHBOARD_MAX_RETRIES: '0',
    SWITCHBOARD_BREAKER_FAILURES: '2',
    SWITCHBOARD_BREAKER_MIN_FAILING_REQUESTS: '2',
    SWITCHBOARD_BREAKER_COOLDOWN_MS: String(COOLDOWN_MS),
  });
  // These tests read circuits through GraphQL and /metrics, so they use the app's router, on the system clock,
  // whose now() reads Date.now. Faking only Date (timers and sockets stay real) lets a test step to the end of a
  // cool-down instead of waiting for it. Frozen time also means any cool-down ends only when a test says so.
  vi.useFakeTimers({ toFake: ['Date'] });
});
afterAll(async () => {
  vi.useRealTimers();
  await fixture.stop();
});

/** Steps the (faked) wall clock to 1 ms before the groq endpoint's retryAt, checks it is still OPEN, then to retryAt. */
async function stepToRetryAt(): Promise<void> {
  const endpoint = (await health('groq')).endpoints.find((candidate) => candidate.providerModelId === GROQ_MODEL);
  const retryAt = Date.parse(endpoint?.retryAt ?? '');
  expect(retryAt).toBeGreaterThan(Date.now());
  vi.setSystemTime(retryAt - 1);
  expect((await health('groq')).endpoints.find((candidate) => candidate.providerModelId === GROQ_MODEL)?.state).toBe('OPEN');
  vi.setSystemTime(retryAt);
  expect((await health('groq')).endpoints.find((candidate) => candidate.providerModelId === GROQ_MODEL)?.state).toBe('HALF_OPEN');
}

interface EndpointHealth {
  providerModelId: string;
  state: string;
  consecutiveFailures: number;
  retryAt: string | null;
  model: { id: string } | null;
}
interface Health {
  state: string;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  errorRate: number;
  requests: number;
  failures: number;
  lastError: string | null;
  lastErrorAt: string | null;
  openEndpoints: number;
  endpoints: EndpointHealth[];
}

async function health(providerId: string): Promise<Health> {
  const body = await fixture.server.graphql<{ provider: { health: Health } }>(
    `query ($id: ID!) { provider(id: $id) { health {
      state latencyP50Ms latencyP95Ms errorRate requests failures lastError lastErrorAt openEndpoints
      endpoints { providerModelId state consecutiveFailures retryAt model { id } }
    } } }`,
    { id: providerId },
  );
  if (!body.data) throw new Error(JSON.stringify(body.errors));
  return body.data.provider.health;
}

async function openCircuitsGauge(): Promise<number> {
  const text = await (await fetch(`${fixture.server.url}/metrics`)).text();
  const match = /^switchboard_circuit_breakers_open (\d+)$/m.exec(text);
  if (!match) throw new Error('no switchboard_circuit_breakers_open in /metrics');
  return Number(match[1]);
}

const MODEL = SHARED_MODELS.llama70b;
const GROQ_MODEL = 'llama-3.3-70b-versatile';

describe('the circuit breaker of an endpoint', () => {
  it('shows healthy figures while the endpoint answers', async () => {
    for (let index = 0; index < 3; index++) await fixture.complete(ask(MODEL));
    const groq = await health('groq');
    expect(groq).toMatchObject({ state: 'CLOSED', errorRate: 0, requests: 3, failures: 0, lastError: null, openEndpoints: 0 });
    expect(groq.latencyP50Ms).not.toBeNull();
    expect(groq.latencyP95Ms).toBeGreaterThanOrEqual(groq.latencyP50Ms ?? 0);
    expect(groq.endpoints).toEqual([{ providerModelId: GROQ_MODEL, state: 'CLOSED', consecutiveFailures: 0, retryAt: null, model: { id: MODEL } }]);
  });

  it('opens after consecutive failures, then skips the endpoint without calling it', async () => {
    for (let index = 0; index < 2; index++) {
      fixture.groq.enqueue({ kind: 'error', error: 'server_error' });
      expect((await fixture.complete(ask(MODEL))).providerId).toBe('together');
    }
    const groq = await health('groq');
    expect(groq).toMatchObject({ state: 'OPEN', requests: 5, failures: 2, openEndpoints: 1 });
    expect(groq.errorRate).toBeCloseTo(2 / 5, 10);
    expect(groq.lastError).toMatch(/groq returned 500/);
    expect(groq.lastErrorAt).not.toBeNull();
    expect(groq.endpoints[0]).toMatchObject({ state: 'OPEN', consecutiveFailures: 2 });
    expect(Date.parse(groq.endpoints[0]?.retryAt ?? '')).toBeGreaterThan(Date.now());
    expect(await openCircuitsGauge()).toBe(1);

    const arrivals = fixture.groq.arrivals();
    const skipped = await fixture.complete(ask(MODEL));
    expect(skipped.providerId).toBe('together');
    expect(attemptSummary(fixture.attempts(skipped.id))).toEqual(['together SUCCEEDED']);
    expect(fixture.groq.arrivals()).toBe(arrivals);
    // Other models on the same provider have circuits of their own.
    expect((await fixture.complete(ask(SHARED_MODELS.maverick))).providerId).toBe('groq');
  });

  it('half-opens after the cool-down and lets exactly one probe through, whose success closes it', async () => {
    await stepToRetryAt();
    // Hold the probe so the second request arrives while it is in flight.
    const release = fixture.groq.hold();
    const arrivals = fixture.groq.arrivals();
    const probing = fixture.complete(ask(MODEL));
    await eventually(() => fixture.groq.arrivals() === arrivals + 1);
    const second = await fixture.complete(ask(MODEL));
    release();
    const first = await probing;
    expect([first.providerId, second.providerId].sort()).toEqual(['groq', 'together']);
    expect(fixture.groq.arrivals()).toBe(arrivals + 1);
    const groq = await health('groq');
    expect(groq.state).toBe('CLOSED');
    expect(groq.endpoints.every((endpoint) => endpoint.state === 'CLOSED')).toBe(true);
    expect(await openCircuitsGauge()).toBe(0);
    expect((await fixture.complete(ask(MODEL))).providerId).toBe('groq');
  });

  it('opens again, for another cool-down, when the probe fails', async () => {
    for (let index = 0; index < 2; index++) {
      fixture.groq.enqueue({ kind: 'error', error: 'server_error' });
      await fixture.complete(ask(MODEL));
    }
    expect((await health('groq')).state).toBe('OPEN');
    await stepToRetryAt();
    expect((await health('groq')).state).toBe('HALF_OPEN');
    fixture.groq.failNext(503);
    const probed = await fixture.complete(ask(MODEL));
    expect(probed.providerId).toBe('together');
    expect(attemptSummary(fixture.attempts(probed.id))).toEqual(['groq FAILED PROVIDER_ERROR', 'together SUCCEEDED']);
    const groq = await health('groq');
    expect(groq.state).toBe('OPEN');
    expect(groq.lastError).toMatch(/503/);
    const arrivals = fixture.groq.arrivals();
    expect((await fixture.complete(ask(MODEL))).providerId).toBe('together');
    expect(fixture.groq.arrivals()).toBe(arrivals);
  });

  it('does not count a 400 against the endpoint', async () => {
    for (let index = 0; index < 3; index++) {
      fixture.groq.enqueue({ kind: 'error', error: 'bad_request' });
      await fixture.complete(ask(SHARED_MODELS.scout)).catch(() => undefined);
    }
    const scout = (await health('groq')).endpoints.find((endpoint) => endpoint.model?.id === SHARED_MODELS.scout);
    expect(scout).toMatchObject({ state: 'CLOSED', consecutiveFailures: 0 });
  });
});

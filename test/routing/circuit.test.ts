import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/subscriptions.js';
import { SHARED_MODELS, ask, attemptSummary, startRoutingFixture, type RoutingFixture } from './fixture.js';

const COOLDOWN_MS = 400;
let fixture: RoutingFixture;
beforeAll(async () => {
  fixture = await startRoutingFixture({ SWITCHBOARD_MAX_RETRIES: '0', SWITCHBOARD_BREAKER_FAILURES: '2', SWITCHBOARD_BREAKER_COOLDOWN_MS: String(COOLDOWN_MS) });
});
afterAll(async () => {
  await fixture.stop();
});

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
    await waitFor(async () => ((await health('groq')).endpoints.find((endpoint) => endpoint.providerModelId === GROQ_MODEL)?.state === 'HALF_OPEN' ? true : undefined), COOLDOWN_MS + 2000);
    // Slow the probe down so the second request arrives while it is in flight.
    fixture.groq.setDelay(300);
    const arrivals = fixture.groq.arrivals();
    const [first, second] = await Promise.all([fixture.complete(ask(MODEL)), fixture.complete(ask(MODEL))]);
    fixture.groq.setDelay(0);
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
    await waitFor(async () => ((await health('groq')).state === 'HALF_OPEN' ? true : undefined), COOLDOWN_MS + 2000);
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

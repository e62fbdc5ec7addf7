import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ask, SHARED_MODELS, startRoutingFixture, type RoutingFixture } from '../routing/fixture.js';

interface RouteEndpoint {
  position: number | null;
  kept: boolean;
  skipReason: string | null;
  detail: string | null;
  providerId: string;
  providerModelId: string;
  requestedModel: string;
  fallback: boolean;
  strategy: string;
  expectedCostUsd: number | null;
}
interface Plan {
  explainRoute: { requestedModel: string; fallbackModels: string[]; endpoints: RouteEndpoint[] };
}

const EXPLAIN = `query Explain($input: CompletionInput!) {
  explainRoute(input: $input) { requestedModel fallbackModels endpoints { position kept skipReason detail providerId providerModelId requestedModel fallback strategy expectedCostUsd } }
}`;

const ADMIN = 'sb-admin-explain-route-test-key-0123456789';
const asAdmin = { authorization: `Bearer ${ADMIN}` };

const userText = (text: string) => [{ role: 'USER', content: text }];

describe('explainRoute', () => {
  let fixture: RoutingFixture;

  beforeAll(async () => {
    // One failing request opens a circuit, and nothing is retried, so every endpoint is tried exactly once.
    fixture = await startRoutingFixture({ SWITCHBOARD_ADMIN_KEY: ADMIN, SWITCHBOARD_BREAKER_FAILURES: '1', SWITCHBOARD_BREAKER_MIN_FAILING_REQUESTS: '1', SWITCHBOARD_MAX_RETRIES: '0', SWITCHBOARD_ROUTING_STRATEGY: 'ordered' });
  }, 60_000);
  afterAll(() => fixture?.stop());

  const explain = async (input: Record<string, unknown>, headers: Record<string, string> = asAdmin): Promise<Plan['explainRoute']> => {
    const body = await fixture.server.graphql<Plan>(EXPLAIN, { input }, headers);
    expect(body.errors).toBeUndefined();
    return body.data!.explainRoute;
  };
  const skipped = (plan: Plan['explainRoute'], reason: string) => plan.endpoints.filter((endpoint) => endpoint.skipReason === reason);

  it('keeps every endpoint of a plain request, numbered in try order, with the strategy and a price score', async () => {
    const plan = await explain({ model: SHARED_MODELS.scout, messages: userText('hello') });
    expect(plan.endpoints.map((endpoint) => endpoint.providerId).sort()).toEqual(['groq', 'together']);
    expect(plan.endpoints.map((endpoint) => endpoint.position)).toEqual([1, 2]);
    expect(plan.endpoints.every((endpoint) => endpoint.kept && endpoint.strategy === 'ordered')).toBe(true);
    expect(plan.endpoints.every((endpoint) => typeof endpoint.expectedCostUsd === 'number' && endpoint.expectedCostUsd > 0)).toBe(true);
  });

  it('skips for the provider preferences', async () => {
    const plan = await explain({ model: SHARED_MODELS.scout, messages: userText('hello'), provider: { ignore: ['groq'] } });
    expect(skipped(plan, 'PROVIDER_PREFERENCE').map((endpoint) => endpoint.providerId)).toEqual(['groq']);
    expect(plan.endpoints.find((endpoint) => endpoint.providerId === 'together')).toMatchObject({ kept: true, position: 1 });
  });

  it('skips for capability: a fallback model without image input when the prompt has an image', async () => {
    const input = {
      model: SHARED_MODELS.maverick,
      models: [SHARED_MODELS.llama70b],
      messages: [{ role: 'USER', parts: [{ type: 'TEXT', text: 'what is this?' }, { type: 'IMAGE_URL', imageUrl: 'data:image/png;base64,iVBORw0KGgo=' }] }],
    };
    const plan = await explain(input);
    expect(plan.fallbackModels).toEqual([SHARED_MODELS.llama70b]);
    const capability = skipped(plan, 'CAPABILITY');
    expect(capability.map((endpoint) => endpoint.requestedModel)).toEqual([SHARED_MODELS.llama70b, SHARED_MODELS.llama70b]);
    expect(capability.every((endpoint) => endpoint.fallback && endpoint.position === null)).toBe(true);
    expect(plan.endpoints.filter((endpoint) => endpoint.kept).every((endpoint) => endpoint.requestedModel === SHARED_MODELS.maverick)).toBe(true);
    // The same request without the image keeps the fallback's endpoints.
    const plain = await explain({ ...input, messages: userText('what is this?') });
    expect(skipped(plain, 'CAPABILITY')).toEqual([]);
  });

  it('skips for context length when one endpoint’s window is smaller than the prompt', async () => {
    fixture.setContextLength('groq', SHARED_MODELS.gptOss20b, 8);
    try {
      const long = await explain({ model: SHARED_MODELS.gptOss20b, messages: userText('a prompt of quite a few more than eight tokens, by any count at all') });
      expect(skipped(long, 'CONTEXT_LENGTH').map((endpoint) => endpoint.providerId)).toEqual(['groq']);
      const short = await explain({ model: SHARED_MODELS.gptOss20b, messages: userText('hi') });
      expect(skipped(short, 'CONTEXT_LENGTH')).toEqual([]);
    } finally {
      fixture.setContextLength('groq', SHARED_MODELS.gptOss20b, null);
    }
  });

  it('skips for the key’s allowlist', async () => {
    const created = await fixture.server.graphql<{ createApiKey: { secret: string } }>(
      'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }',
      { input: { name: 'only maverick', scopes: ['COMPLETIONS'], allowedModels: [SHARED_MODELS.maverick] } },
      asAdmin,
    );
    const secret = created.data!.createApiKey.secret;
    const plan = await explain({ model: SHARED_MODELS.maverick, models: [SHARED_MODELS.llama8b], messages: userText('hello') }, { authorization: `Bearer ${secret}` });
    expect(skipped(plan, 'ALLOWLIST').map((endpoint) => endpoint.requestedModel)).toEqual([SHARED_MODELS.llama8b, SHARED_MODELS.llama8b]);
    expect(plan.endpoints.filter((endpoint) => endpoint.kept).map((endpoint) => endpoint.requestedModel)).toEqual([SHARED_MODELS.maverick, SHARED_MODELS.maverick]);
    // The admin key has no allowlist.
    const open = await explain({ model: SHARED_MODELS.maverick, models: [SHARED_MODELS.llama8b], messages: userText('hello') });
    expect(skipped(open, 'ALLOWLIST')).toEqual([]);
  });

  it('skips for the breaker state once a failure opened a circuit', async () => {
    const before = await explain({ model: SHARED_MODELS.kimi, messages: userText('hello') });
    expect(skipped(before, 'BREAKER_STATE')).toEqual([]);
    fixture.groq.failNext(503);
    const result = await fixture.complete({ ...ask(SHARED_MODELS.kimi), provider: { order: ['groq'] } });
    expect(result.providerId).toBe('together');
    const after = await explain({ model: SHARED_MODELS.kimi, messages: userText('hello') });
    const open = skipped(after, 'BREAKER_STATE');
    expect(open.map((endpoint) => endpoint.providerId)).toEqual(['groq']);
    expect(open[0]!.detail).toMatch(/circuit OPEN/);
    expect(after.endpoints.find((endpoint) => endpoint.providerId === 'together')).toMatchObject({ kept: true, position: 1 });
  });

  it('lists endpoints in the order a request that fails everywhere records its attempts', async () => {
    const input = { model: SHARED_MODELS.llama70b, models: [SHARED_MODELS.gptOss120b] };
    const plan = await explain({ ...input, messages: userText('hello'), provider: { order: ['together', 'groq'] } });
    const kept = plan.endpoints.filter((endpoint) => endpoint.kept);
    expect(kept).toHaveLength(4);
    // Every attempt fails (503 from the proxy, before the fake).
    for (let index = 0; index < 2; index++) {
      fixture.groq.failNext(503);
      fixture.together.failNext(503);
    }
    await expect(fixture.complete({ ...ask(SHARED_MODELS.llama70b, 'hello'), ...input, provider: { order: ['together', 'groq'] } })).rejects.toThrow();
    const row = fixture.latest(SHARED_MODELS.gptOss120b);
    expect(row.status).toBe('FAILED');
    const attempted = (row.attempts ?? []).map((attempt) => `${attempt.providerId}:${attempt.providerModelId}`);
    expect(attempted).toEqual(kept.map((endpoint) => `${endpoint.providerId}:${endpoint.providerModelId}`));
    expect(new Set(attempted).size).toBe(4);
  });
});

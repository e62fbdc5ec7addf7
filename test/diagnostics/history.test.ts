import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GenerationRow, type GenerationStatus } from '../../src/db/schema.js';
import { startTestServer, type TestServer } from '../helpers/app.js';

const HOUR = 3_600_000;

function row(id: string, createdAt: number, status: GenerationStatus, latencyMs: number | null, providerModelId = 'echo', apiKeyId: string | null = null): GenerationRow {
  return {
    id,
    requestId: null,
    apiKeyId,
    requestedModel: 'local/echo',
    modelId: 'local/echo',
    providerId: 'local',
    providerModelId,
    status,
    finishReason: status === 'SUCCEEDED' ? 'stop' : null,
    rawFinishReason: null,
    promptTokens: 10,
    completionTokens: 5,
    totalTokens: 15,
    cachedPromptTokens: 0,
    reasoningTokens: 0,
    usageEstimated: false,
    costPicos: 0,
    promptPriceMicros: 0,
    completionPriceMicros: 0,
    cachedPromptPriceMicros: 0,
    cacheWritePriceMicros: null,
    cacheWrite5mTokens: 0,
    cacheWrite1hTokens: 0,
    latencyMs,
    timeToFirstTokenMs: null,
    streamed: false,
    errorCode: status === 'FAILED' ? 'PROVIDER_ERROR' : null,
    errorMessage: null,
    warnings: [],
    attempts: [],
    requestSummary: { messages: 1 },
    metadata: null,
    endUser: null,
    cacheHit: false,
    savedPicos: null, instanceId: null,
    createdAt,
    finishedAt: status === 'IN_PROGRESS' ? null : createdAt + (latencyMs ?? 0),
  };
}

interface Bucket {
  start: string;
  requests: number;
  failures: number;
  uptime: number;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
}

describe('uptime and latency history from the ledger', () => {
  let server: TestServer;
  const now = Date.now();
  const thisHour = Math.floor(now / HOUR) * HOUR;

  beforeAll(async () => {
    server = await startTestServer();
    const rows = [
      // Two hours ago: 3 of 4 succeeded.
      row('gen_h2_a', thisHour - 2 * HOUR + 1000, 'SUCCEEDED', 100),
      row('gen_h2_b', thisHour - 2 * HOUR + 2000, 'SUCCEEDED', 300),
      row('gen_h2_c', thisHour - 2 * HOUR + 3000, 'FAILED', 50),
      row('gen_h2_d', thisHour - 2 * HOUR + 4000, 'SUCCEEDED', 200),
      // This hour: one success and one cancellation (not the provider's failure), one in flight (not counted).
      row('gen_h0_a', thisHour + 10, 'SUCCEEDED', 400),
      row('gen_h0_b', thisHour + 20, 'CANCELLED', null),
      row('gen_h0_c', thisHour + 30, 'IN_PROGRESS', null),
      // Another provider model of the same provider: in the provider's history, not the endpoint's.
      row('gen_h0_other', thisHour + 40, 'INTERRUPTED', 900, 'other-model'),
      // More than a day ago: outside.
      row('gen_old', thisHour - 30 * HOUR, 'FAILED', 10),
    ];
    await server.app.services.storage.ledger.writeGenerations(rows);
  }, 60_000);
  afterAll(() => server?.stop());

  it('buckets a provider’s generations by hour over the last day, failures and latency percentiles included', async () => {
    const body = await server.graphql<{ provider: { history: Bucket[] } }>('{ provider(id: "local") { history { start requests failures uptime latencyP50Ms latencyP95Ms } } }');
    expect(body.errors).toBeUndefined();
    const history = body.data!.provider.history;
    expect(history.map((bucket) => Date.parse(bucket.start))).toEqual([thisHour - 2 * HOUR, thisHour]);
    expect(history[0]).toMatchObject({ requests: 4, failures: 1, uptime: 0.75, latencyP50Ms: 150, latencyP95Ms: 285 });
    expect(history[1]).toMatchObject({ requests: 3, failures: 1, latencyP50Ms: 650 });
  });

  it('narrows to one endpoint on ModelEndpoint, and to finer buckets on request', async () => {
    const body = await server.graphql<{ model: { endpoints: Array<{ providerModelId: string; history: Bucket[]; recent: Bucket[] }> } }>(
      '{ model(id: "local/echo") { endpoints { providerModelId history { start requests failures uptime } recent: history(hours: 1, buckets: 60) { start requests } } } }',
    );
    expect(body.errors).toBeUndefined();
    const echo = body.data!.model.endpoints.find((endpoint) => endpoint.providerModelId === 'echo')!;
    expect(echo.history.map((bucket) => [Date.parse(bucket.start), bucket.requests, bucket.failures])).toEqual([
      [thisHour - 2 * HOUR, 4, 1],
      [thisHour, 2, 0],
    ]);
    expect(echo.history[1]!.uptime).toBe(1);
    // By the minute over the last hour: the two rows of this hour share its first minute.
    expect(echo.recent.map((bucket) => [Date.parse(bucket.start), bucket.requests])).toEqual(now - thisHour < 60_000 * 59 ? [[thisHour, 2]] : expect.any(Array));
  });

  it('refuses windows out of bounds', async () => {
    const body = await server.graphql('{ provider(id: "local") { history(hours: 0) { start } } }');
    expect(body.errors?.[0]?.message).toMatch(/hours must be between/);
    const many = await server.graphql('{ provider(id: "local") { history(hours: 24, buckets: 100000) { start } } }');
    expect(many.errors?.[0]?.message).toMatch(/buckets must be between/);
  });
});

describe('rate-limit use in the current window', () => {
  let server: TestServer;
  const ADMIN = 'sb-admin-rate-window-test-0123456789';

  beforeAll(async () => {
    server = await startTestServer({ SWITCHBOARD_ADMIN_KEY: ADMIN });
  }, 60_000);
  afterAll(() => server?.stop());

  it('counts the key’s requests and tokens of the last minute against its limits', async () => {
    const created = await server.graphql<{ createApiKey: { secret: string; apiKey: { id: string } } }>(
      'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { id } } }',
      { input: { name: 'limited', scopes: ['COMPLETIONS', 'READ'], rateLimit: { requestsPerMinute: 3, tokensPerMinute: 1000 } } },
      { authorization: `Bearer ${ADMIN}` },
    );
    const { secret, apiKey } = created.data!.createApiKey;
    const auth = { authorization: `Bearer ${secret}` };
    for (const text of ['one', 'two', 'three']) {
      const done = await server.graphql('mutation($input: CompletionInput!) { createCompletion(input: $input) { id } }', { input: { model: 'local/echo', messages: [{ role: 'USER', content: text }] } }, auth);
      expect(done.errors).toBeUndefined();
    }
    // A fourth is refused by the limiter: it has a ledger row, but took nothing from the window.
    const refused = await server.graphql('mutation($input: CompletionInput!) { createCompletion(input: $input) { id } }', { input: { model: 'local/echo', messages: [{ role: 'USER', content: 'four' }] } }, auth);
    expect(refused.errors?.[0]?.extensions?.['code']).toBe('RATE_LIMITED');
    // A request of this key from two minutes ago is outside the window.
    await server.app.services.storage.ledger.writeGenerations([row('gen_before_window', Date.now() - 120_000, 'SUCCEEDED', 5, 'echo', apiKey.id)]);
    const body = await server.graphql<{ me: { rateLimitUse: { requests: number; tokens: number; requestsUsed: number; tokensUsed: number; requestsPerMinute: number } } }>(
      '{ me { rateLimitUse { requests tokens requestsUsed tokensUsed requestsPerMinute } } }',
      {},
      auth,
    );
    expect(body.errors).toBeUndefined();
    const use = body.data!.me.rateLimitUse;
    const ledger = await server.graphql<{ usage: Array<{ promptTokens: number; completionTokens: number; requests: number }> }>(
      'query($filter: UsageFilter) { usage(filter: $filter) { requests promptTokens completionTokens } }',
      { filter: { apiKeyId: apiKey.id, from: new Date(Date.now() - 60_000).toISOString() } },
      { authorization: `Bearer ${ADMIN}` },
    );
    const total = ledger.data!.usage[0]!;
    expect(use.requests).toBe(3);
    expect(total.requests).toBe(4);
    // The refusal used no tokens, so the window's tokens are the ledger's.
    expect(use.tokens).toBe(total.promptTokens + total.completionTokens);
    expect(use.requestsUsed).toBe(1);
    expect(use.tokensUsed).toBeCloseTo(use.tokens / 1000, 10);
    expect(use.requestsPerMinute).toBe(3);
  });
});

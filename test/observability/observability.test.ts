import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { GatewayMetrics } from '../../src/usage/metrics.js';
import type { FakeUpstream } from '../conformance/harness.js';
import { FAKE_OPENAI_KEY, startFakeOpenAI } from '../fakes/openai.js';
import { subscribeWs, waitFor, wsClient } from '../helpers/subscriptions.js';
import { parsePrometheusText, type Exposition } from './prometheus-text.js';

const ADMIN_KEY = 'sk-admin-never-log-me-0123456789';
const PROMPT = 'TOP-SECRET-PROMPT-TEXT-about-project-nightingale';
const MINI = 'openai/gpt-4o-mini';

const COMPLETE = /* GraphQL */ `
  mutation Complete($input: CompletionInput!) { createCompletion(input: $input) { id provider { id } message { content } } }
`;
const STREAM = /* GraphQL */ `
  subscription Stream($input: CompletionInput!) { completionStream(input: $input) { __typename } }
`;
const input = (model: string, text = 'count me') => ({ input: { model, messages: [{ role: 'USER', content: text }] } });

interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

interface Body<T> {
  data?: T;
  errors?: Array<{ extensions?: Record<string, unknown> }>;
}

// One gateway for the file (starting one costs more than these tests): admin key on, OpenAI with OpenRouter as
// its fallback, and the real logger with its redaction writing into memory.
const lines: string[] = [];
let app: App;
let url: string;
let wsUrl: string;
let openai: FakeUpstream;
let openrouter: FakeUpstream;
let directory: string;

async function graphql<T>(query: string, variables: Record<string, unknown>, token = ADMIN_KEY): Promise<Body<T>> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as Body<T>;
}

const adminSocket = () => wsClient(wsUrl, { authorization: `Bearer ${ADMIN_KEY}` });

beforeAll(async () => {
  openai = await startFakeOpenAI();
  openrouter = await startFakeOpenAI();
  directory = mkdtempSync(join(tmpdir(), 'switchboard-observability-'));
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: `file:${join(directory, 'test.db')}`,
    SWITCHBOARD_LOCAL_DELAY_MS: '0',
    SWITCHBOARD_ADMIN_KEY: ADMIN_KEY,
    OPENAI_API_KEY: FAKE_OPENAI_KEY,
    OPENAI_BASE_URL: openai.url,
    OPENROUTER_API_KEY: FAKE_OPENAI_KEY,
    OPENROUTER_BASE_URL: openrouter.url,
    // Content kept in the database must still never reach the logs.
    SWITCHBOARD_STORE_CONTENT: 'true',
  });
  app = buildApp(config, { logger: createLogger('info', { write: (line: string) => lines.push(line) }) });
  ({ url } = await app.start());
  wsUrl = url.replace('http://', 'ws://') + '/graphql';
});
afterAll(async () => {
  await app.stop();
  await openai.close();
  await openrouter.close();
  rmSync(directory, { recursive: true, force: true });
});

describe('GET /metrics', () => {
  const scrape = async (): Promise<Exposition> => {
    const response = await fetch(`${url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    return parsePrometheusText(await response.text());
  };

  it('serves the Prometheus text format, with process metrics and the gateway families', async () => {
    const metrics = await scrape();
    expect(metrics.types.get('process_cpu_user_seconds_total')).toBe('counter');
    expect(metrics.types.get('nodejs_heap_size_total_bytes')).toBe('gauge');
    expect(metrics.types.get('switchboard_requests_total')).toBe('counter');
    expect(metrics.types.get('switchboard_request_duration_seconds')).toBe('histogram');
    expect(metrics.types.get('switchboard_time_to_first_token_seconds')).toBe('histogram');
    expect(metrics.types.get('switchboard_gateway_overhead_seconds')).toBe('histogram');
    expect(metrics.value('switchboard_circuit_breakers_open')).toBe(0);
    expect(metrics.value('switchboard_recorder_queue_depth')).toBe(0);
    expect(metrics.value('switchboard_active_completions')).toBe(0);
    const post = await fetch(`${url}/metrics`, { method: 'POST' });
    expect(post.status).toBe(405);
  });

  it('moves its counters and histograms as requests finish, derived from the ledger rows', async () => {
    const before = await scrape();
    await graphql(COMPLETE, input('local/echo'));
    await graphql(COMPLETE, input('local/echo'));
    openai.enqueue({ kind: 'text', text: 'Priced.', promptTokens: 1000, completionTokens: 100 });
    await graphql(COMPLETE, input(MINI));
    // Overloaded is retryable: the request falls back to the next endpoint, OpenRouter.
    openai.enqueue({ kind: 'error', error: 'overloaded' });
    openrouter.enqueue({ kind: 'text', text: 'Served by the fallback.', promptTokens: 10, completionTokens: 5 });
    const fallback = await graphql<{ createCompletion: { provider: { id: string } } }>(COMPLETE, input(MINI));
    expect(fallback.data?.createCompletion.provider.id).toBe('openrouter');
    // A bad request is not retryable: the request fails on OpenAI.
    openai.enqueue({ kind: 'error', error: 'bad_request' });
    const failed = await graphql(COMPLETE, input(MINI));
    expect(failed.errors?.[0]?.extensions?.['code']).toBe('PROVIDER_ERROR');
    const client = adminSocket();
    await subscribeWs(client, STREAM, input('local/echo', 'three streamed words'));
    await client.dispose();

    const after = await scrape();
    const delta = (name: string, labels: Record<string, string> = {}): number => (after.value(name, labels) ?? 0) - (before.value(name, labels) ?? 0);
    const echo = { model: 'local/echo', provider: 'local' };
    expect(delta('switchboard_requests_total', { ...echo, status: 'SUCCEEDED' })).toBe(3);
    expect(delta('switchboard_requests_total', { model: MINI, provider: 'openai', status: 'SUCCEEDED' })).toBe(1);
    expect(delta('switchboard_requests_total', { model: MINI, provider: 'openrouter', status: 'SUCCEEDED' })).toBe(1);
    expect(delta('switchboard_requests_total', { model: MINI, provider: 'openai', status: 'FAILED' })).toBe(1);
    expect(delta('switchboard_tokens_total', { model: MINI, provider: 'openai', type: 'prompt' })).toBe(1000);
    expect(delta('switchboard_tokens_total', { model: MINI, provider: 'openai', type: 'completion' })).toBe(100);
    expect(delta('switchboard_cost_usd_total', { model: MINI, provider: 'openai' })).toBeCloseTo((1000 * 150_000 + 100 * 600_000) / 1e12, 15);
    expect(delta('switchboard_upstream_errors_total', { provider: 'openai', code: 'PROVIDER_ERROR' })).toBe(2);
    expect(delta('switchboard_fallbacks_total', { model: MINI, provider: 'openrouter' })).toBe(1);
    expect(delta('switchboard_request_duration_seconds_count', { ...echo, status: 'SUCCEEDED' })).toBe(3);
    expect(delta('switchboard_time_to_first_token_seconds_count', echo)).toBe(1);
    expect(delta('switchboard_gateway_overhead_seconds_count')).toBe(6);
  });

  it('reads gauges at scrape time: an open stream shows as an active completion', async () => {
    openai.enqueue({ kind: 'hang', textBefore: 'Hanging after this' });
    const client = adminSocket();
    const iterator = client.iterate({ query: STREAM, variables: input(MINI) });
    try {
      await iterator.next();
      expect((await scrape()).value('switchboard_active_completions')).toBe(1);
    } finally {
      await iterator.return?.();
      await client.dispose();
    }
    await waitFor(async () => ((await scrape()).value('switchboard_active_completions') === 0 ? true : undefined));
  });
});

describe('structured logs', () => {
  const parsed = (): LogLine[] => lines.map((line) => JSON.parse(line) as LogLine);
  const finished = (): LogLine[] => parsed().filter((line) => line.msg === 'request finished');
  let keySecret: string;
  let keyPrefix: string;

  beforeAll(async () => {
    const created = await graphql<{ createApiKey: { apiKey: { prefix: string }; secret: string } }>(
      `mutation { createApiKey(input: { name: "logged", scopes: [COMPLETIONS] }) { apiKey { prefix } secret } }`,
      {},
    );
    keySecret = created.data!.createApiKey.secret;
    keyPrefix = created.data!.createApiKey.apiKey.prefix;
  });

  it('writes one line per finished request with ids, key prefix, model, provider, status, latency, tokens and cost', async () => {
    const before = finished().length;
    const done = await graphql<{ createCompletion: { id: string; message: { content: string } } }>(COMPLETE, input('local/echo', PROMPT), keySecret);
    expect(done.data!.createCompletion.message.content).toBe(PROMPT);
    openai.enqueue({ kind: 'text', text: `Completion mentioning ${PROMPT}`, promptTokens: 30, completionTokens: 12 });
    await subscribeWs(adminSocket(), STREAM, input(MINI, PROMPT));
    openai.enqueue({ kind: 'error', error: 'bad_request' });
    const failed = await graphql(COMPLETE, input(MINI, PROMPT));
    expect(failed.errors?.[0]?.extensions?.['code']).toBe('PROVIDER_ERROR');

    const logged = finished().slice(before);
    expect(logged).toHaveLength(3);
    const [echo, streamed, error] = logged;
    expect(echo).toMatchObject({ level: 30, generationId: done.data!.createCompletion.id, keyPrefix, model: 'local/echo', provider: 'local', status: 'SUCCEEDED', streamed: false, costUsd: 0 });
    expect(typeof echo!['requestId']).toBe('string');
    expect(typeof echo!['apiKeyId']).toBe('string');
    expect(echo!['latencyMs']).toEqual(expect.any(Number));
    expect(streamed).toMatchObject({ keyPrefix: null, model: MINI, provider: 'openai', status: 'SUCCEEDED', streamed: true, promptTokens: 30, completionTokens: 12, costUsd: (30 * 150_000 + 12 * 600_000) / 1e12 });
    expect(streamed!['timeToFirstTokenMs']).toEqual(expect.any(Number));
    expect(error).toMatchObject({ level: 40, status: 'FAILED', errorCode: 'PROVIDER_ERROR', attempts: 1 });
  });

  it('never writes a key, a secret or prompt and completion text', async () => {
    await graphql(COMPLETE, input('local/echo', PROMPT), 'sk-wrong-key-should-not-be-logged');
    app.logger.info({ headers: { authorization: `Bearer ${ADMIN_KEY}` }, apiKey: FAKE_OPENAI_KEY, request: { secret: keySecret } }, 'a careless log call');
    const all = lines.join('');
    expect(all).toContain('a careless log call');
    expect(all).toContain('[redacted]');
    for (const secret of [ADMIN_KEY, FAKE_OPENAI_KEY, keySecret, 'sk-wrong-key-should-not-be-logged', PROMPT]) expect(all).not.toContain(secret);
  });
});

describe('the exposition reader used above', () => {
  it('rejects what Prometheus would reject', () => {
    expect(() => parsePrometheusText('# TYPE a counter\na 1\n')).not.toThrow();
    expect(() => parsePrometheusText('a 1\n')).toThrow(/no TYPE/);
    expect(() => parsePrometheusText('# TYPE a counter\na{x="1} 1\n')).toThrow(/malformed/);
    expect(() => parsePrometheusText('# TYPE a counter\na one\n')).toThrow(/malformed/);
    expect(() => parsePrometheusText('# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_count 1\n')).toThrow(/cumulative/);
    expect(() => parsePrometheusText('# TYPE a counter\na 1')).toThrow(/newline/);
  });
});

describe('GatewayMetrics', () => {
  it('tells retries of the same endpoint from fallbacks to another', async () => {
    const metrics = new GatewayMetrics(
      { activeCompletions: () => 0, recorderQueueDepth: () => 0, recorderWaitingFinishes: () => 0, usageEventSubscribers: () => 0, usageEventSubscribersOverflowed: () => 0 },
      { defaultMetrics: false },
    );
    const attempt = (providerId: string, status: 'SUCCEEDED' | 'FAILED', latencyMs: number) => ({ providerId, providerModelId: 'gpt-4o-mini', status, latencyMs, ...(status === 'FAILED' ? { errorCode: 'PROVIDER_ERROR' } : {}) });
    const base = {
      id: 'gen_1', requestId: null, apiKeyId: null, requestedModel: MINI, modelId: MINI, providerModelId: 'gpt-4o-mini', status: 'SUCCEEDED' as const,
      finishReason: 'stop', rawFinishReason: 'stop', promptTokens: 0, completionTokens: 0, totalTokens: 0, cachedPromptTokens: 0, reasoningTokens: 0,
      usageEstimated: false, costPicos: 0, promptPriceMicros: 0, completionPriceMicros: 0, cachedPromptPriceMicros: 0, cacheWritePriceMicros: null, cacheWrite5mTokens: 0, cacheWrite1hTokens: 0, timeToFirstTokenMs: null, streamed: false,
      errorCode: null, errorMessage: null, warnings: [], requestSummary: null, metadata: null, endUser: null, cacheHit: false, savedPicos: null, instanceId: null, createdAt: 0, finishedAt: 0,
    };
    metrics.observe([
      // Two failures on OpenAI, the second a retry, then a fallback to OpenRouter: 1000 ms, 900 of them upstream.
      { ...base, providerId: 'openrouter', latencyMs: 1000, attempts: [attempt('openai', 'FAILED', 100), attempt('openai', 'FAILED', 200), attempt('openrouter', 'SUCCEEDED', 600)] },
      { ...base, id: 'gen_2', providerId: 'openai', latencyMs: 300, attempts: [attempt('openai', 'FAILED', 100), attempt('openai', 'SUCCEEDED', 150)] },
    ]);
    const text = parsePrometheusText(await metrics.text());
    expect(text.value('switchboard_retries_total', { provider: 'openai' })).toBe(2);
    expect(text.value('switchboard_fallbacks_total', { model: MINI, provider: 'openrouter' })).toBe(1);
    expect(text.value('switchboard_fallbacks_total', { model: MINI, provider: 'openai' })).toBeUndefined();
    expect(text.value('switchboard_upstream_errors_total', { provider: 'openai', code: 'PROVIDER_ERROR' })).toBe(3);
    // Overhead = latency minus the attempts' time: 100 ms and 50 ms.
    expect(text.value('switchboard_gateway_overhead_seconds_sum')).toBeCloseTo(0.15, 10);
    expect(text.value('switchboard_gateway_overhead_seconds_bucket', { le: '0.05' })).toBe(1);
    expect(text.value('switchboard_gateway_overhead_seconds_bucket', { le: '0.1' })).toBe(2);
  });

  it('reads retries from the attempts’ own numbering, does not count a hedge as a fallback or a lost hedge as an error, and measures overlapping attempts once', async () => {
    const metrics = new GatewayMetrics(
      { activeCompletions: () => 0, recorderQueueDepth: () => 0, recorderWaitingFinishes: () => 0, usageEventSubscribers: () => 0, usageEventSubscribersOverflowed: () => 0 },
      { defaultMetrics: false },
    );
    const base = {
      id: 'gen_h', requestId: null, apiKeyId: null, requestedModel: MINI, modelId: MINI, providerId: 'openrouter', providerModelId: 'openai/gpt-4o-mini', status: 'SUCCEEDED' as const,
      finishReason: 'stop', rawFinishReason: 'stop', promptTokens: 0, completionTokens: 0, totalTokens: 0, cachedPromptTokens: 0, reasoningTokens: 0,
      usageEstimated: false, costPicos: 0, promptPriceMicros: 0, completionPriceMicros: 0, cachedPromptPriceMicros: 0, cacheWritePriceMicros: null, cacheWrite5mTokens: 0, cacheWrite1hTokens: 0, timeToFirstTokenMs: null, streamed: true,
      errorCode: null, errorMessage: null, warnings: [], requestSummary: null, metadata: null, endUser: null, cacheHit: false, savedPicos: null, instanceId: null, createdAt: 0, finishedAt: 0,
    };
    metrics.observe([
      {
        ...base,
        // OpenAI from 0 to 400 ms, lost to a hedge on OpenRouter that ran from 200 to 500 ms: 500 ms upstream of 520.
        latencyMs: 520,
        attempts: [
          { providerId: 'openai', providerModelId: 'gpt-4o-mini', status: 'CANCELLED', errorCode: 'HEDGE_LOST', latencyMs: 400, retry: 0, startedAfterMs: 0 },
          { providerId: 'openrouter', providerModelId: 'openai/gpt-4o-mini', status: 'SUCCEEDED', latencyMs: 300, retry: 0, hedged: true, startedAfterMs: 200 },
        ],
      },
      {
        ...base,
        id: 'gen_r',
        providerId: 'openai',
        latencyMs: 1000,
        // A retry after a failure, 300 ms of back-off between them, which the gateway spent waiting.
        attempts: [
          { providerId: 'openai', providerModelId: 'gpt-4o-mini', status: 'FAILED', errorCode: 'PROVIDER_ERROR', latencyMs: 100, retry: 0, startedAfterMs: 0 },
          { providerId: 'openai', providerModelId: 'gpt-4o-mini', status: 'SUCCEEDED', latencyMs: 500, retry: 1, startedAfterMs: 400 },
        ],
      },
    ]);
    const text = parsePrometheusText(await metrics.text());
    expect(text.value('switchboard_retries_total', { provider: 'openai' })).toBe(1);
    expect(text.value('switchboard_fallbacks_total', { model: MINI, provider: 'openrouter' })).toBeUndefined();
    expect(text.value('switchboard_upstream_errors_total', { provider: 'openai', code: 'HEDGE_LOST' })).toBeUndefined();
    expect(text.value('switchboard_upstream_errors_total', { provider: 'openai', code: 'PROVIDER_ERROR' })).toBe(1);
    // 20 ms of overhead for the hedged request, 400 ms (back-off included) for the retried one.
    expect(text.value('switchboard_gateway_overhead_seconds_sum')).toBeCloseTo(0.42, 10);
  });

  it('keeps its own registry, so two gateways in one process do not share counters, and lets routing set open breakers', async () => {
    const sources = { activeCompletions: () => 0, recorderQueueDepth: () => 0, recorderWaitingFinishes: () => 0, usageEventSubscribers: () => 0, usageEventSubscribersOverflowed: () => 3 };
    const one = new GatewayMetrics(sources, { defaultMetrics: false });
    const two = new GatewayMetrics(sources, { defaultMetrics: false });
    one.setOpenCircuitBreakers(2);
    const first = parsePrometheusText(await one.text());
    const second = parsePrometheusText(await two.text());
    expect(first.value('switchboard_circuit_breakers_open')).toBe(2);
    expect(second.value('switchboard_circuit_breakers_open')).toBe(0);
    expect(first.value('switchboard_usage_event_subscribers_overflowed_total')).toBe(3);
    expect(first.types.has('process_cpu_user_seconds_total')).toBe(false);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeUpstream } from '../conformance/harness.js';
import { startDelayedUpstream, type DelayedUpstream } from '../fakes/delay.js';
import { FAKE_OPENAI_KEY, startFakeOpenAI } from '../fakes/openai.js';
import { startTestServer, type TestServer } from '../helpers/app.js';

const ADMIN = 'sb-admin-diagnostics-test-key-0123456789';
const asAdmin = { authorization: `Bearer ${ADMIN}` };

const ESTIMATE = `query Estimate($input: CompletionInput!) {
  estimateCost(input: $input) { promptTokens promptTokensEstimated tokenizer completionTokensMin completionTokensMax candidates { providerId providerModelId requestedModel promptPricePerMillionUsd completionPricePerMillionUsd minCostUsd maxCostUsd } }
}`;
const COMPLETE = `mutation Complete($input: CompletionInput!) { createCompletion(input: $input) { usage { promptTokens estimated } } }`;
const CHECK = `mutation Check($id: ID!, $timeoutMs: Int) { checkProvider(id: $id, timeoutMs: $timeoutMs) { status reachable authenticated latencyMs models error errorCode provider { id } } }`;

interface Estimate {
  promptTokens: number;
  promptTokensEstimated: boolean;
  tokenizer: string;
  completionTokensMin: number;
  completionTokensMax: number;
  candidates: Array<{ providerId: string; minCostUsd: number | null; maxCostUsd: number | null; promptPricePerMillionUsd: number | null }>;
}
interface Check {
  status: string;
  reachable: boolean;
  authenticated: boolean | null;
  latencyMs: number | null;
  models: string[];
  error: string | null;
  errorCode: string | null;
}

describe('estimateCost against what the OpenAI fake reports', () => {
  let fake: FakeUpstream;
  let server: TestServer;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    server = await startTestServer({ SWITCHBOARD_ADMIN_KEY: ADMIN, OPENAI_API_KEY: FAKE_OPENAI_KEY, OPENAI_BASE_URL: fake.url });
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    await fake?.close();
  });

  const cases: Array<[string, Array<Record<string, unknown>>]> = [
    ['one short message', [{ role: 'USER', content: 'Hello there' }]],
    [
      'a system prompt and a conversation',
      [
        { role: 'SYSTEM', content: 'You are terse. Answer in one word.' },
        { role: 'USER', content: 'What colour is the sky on a clear day?' },
        { role: 'ASSISTANT', content: 'Blue.' },
        { role: 'USER', content: 'And at night — über dark? 夜は暗い。🌙' },
      ],
    ],
    ['a long message', [{ role: 'USER', content: 'The quick brown fox jumps over the lazy dog. '.repeat(400) }]],
  ];

  it.each(cases)('counts %s exactly as the provider does', async (_name, messages) => {
    const input = { model: 'openai/gpt-4o-mini', messages, maxTokens: 100 };
    const estimate = await server.graphql<{ estimateCost: Estimate }>(ESTIMATE, { input }, asAdmin);
    expect(estimate.errors).toBeUndefined();
    const completed = await server.graphql<{ createCompletion: { usage: { promptTokens: number; estimated: boolean } } }>(COMPLETE, { input }, asAdmin);
    expect(completed.errors).toBeUndefined();
    const reported = completed.data!.createCompletion.usage;
    expect(reported.estimated).toBe(false);
    expect(estimate.data!.estimateCost).toMatchObject({ promptTokens: reported.promptTokens, promptTokensEstimated: false, tokenizer: 'o200k_base', completionTokensMin: 0, completionTokensMax: 100 });
  });

  it('prices every candidate from the prompt alone up to the longest completion', async () => {
    const input = { model: 'openai/gpt-4o-mini', messages: [{ role: 'USER', content: 'Hello' }], maxTokens: 1000 };
    const estimate = (await server.graphql<{ estimateCost: Estimate }>(ESTIMATE, { input }, asAdmin)).data!.estimateCost;
    const [openai] = estimate.candidates;
    expect(openai?.providerId).toBe('openai');
    expect(openai!.minCostUsd!).toBeGreaterThan(0);
    expect(openai!.maxCostUsd!).toBeGreaterThan(openai!.minCostUsd!);
    // The prompt's cost is its tokens at the prompt price.
    expect(openai!.minCostUsd!).toBeCloseTo((estimate.promptTokens * openai!.promptPricePerMillionUsd!) / 1_000_000, 12);
    // Without maxTokens the range runs to the model's own output limit, which is larger.
    const open = (await server.graphql<{ estimateCost: Estimate }>(ESTIMATE, { input: { ...input, maxTokens: undefined } }, asAdmin)).data!.estimateCost;
    expect(open.completionTokensMax).toBeGreaterThan(1000);
  });

  it('marks a model without a known tokenizer as estimated', async () => {
    const estimate = await server.graphql<{ estimateCost: Estimate }>(ESTIMATE, { input: { model: 'local/echo', messages: [{ role: 'USER', content: 'Hello' }] } }, asAdmin);
    expect(estimate.data!.estimateCost).toMatchObject({ promptTokensEstimated: true, tokenizer: 'estimate' });
  });
});

describe('checkProvider', () => {
  let wrongKeyFake: FakeUpstream;
  let slowFake: FakeUpstream;
  let slow: DelayedUpstream;
  let server: TestServer;

  beforeAll(async () => {
    // OpenAI takes another key than the one configured; Groq answers only after 5 s.
    wrongKeyFake = await startFakeOpenAI({ apiKey: 'sk-the-key-the-provider-expects-000000' });
    slowFake = await startFakeOpenAI();
    slow = await startDelayedUpstream(slowFake, 5_000);
    server = await startTestServer({
      SWITCHBOARD_ADMIN_KEY: ADMIN,
      OPENAI_API_KEY: FAKE_OPENAI_KEY,
      OPENAI_BASE_URL: wrongKeyFake.url,
      GROQ_API_KEY: FAKE_OPENAI_KEY,
      GROQ_BASE_URL: slow.url,
    });
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    await Promise.all([wrongKeyFake?.close(), slow?.close(), slowFake?.close()]);
  });

  const check = async (id: string, timeoutMs?: number): Promise<Check> => {
    const body = await server.graphql<{ checkProvider: Check }>(CHECK, { id, ...(timeoutMs !== undefined ? { timeoutMs } : {}) }, asAdmin);
    expect(body.errors).toBeUndefined();
    return body.data!.checkProvider;
  };

  it('reports a refused key as an auth failure: reached, not authenticated', async () => {
    const result = await check('openai');
    expect(result).toMatchObject({ status: 'AUTH_FAILED', reachable: true, authenticated: false, models: [] });
    expect(result.error).toBeTruthy();
  });

  it('reports no answer in time as a timeout: not reached, auth unknown', async () => {
    const started = Date.now();
    const result = await check('groq', 300);
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(result).toMatchObject({ status: 'TIMEOUT', reachable: false, authenticated: null, errorCode: 'TIMEOUT', models: [] });
    expect(result.latencyMs!).toBeGreaterThanOrEqual(300);
  });

  it('lists the models of a provider that answers, and says a provider without credentials is not configured', async () => {
    slow.setDelay(0);
    const result = await check('groq');
    expect(result).toMatchObject({ status: 'OK', reachable: true, authenticated: true, error: null });
    expect(result.models).toEqual(['gpt-4o-mini', 'gpt-4o']);
    expect((await check('mistral')).status).toBe('NOT_CONFIGURED');
  });

  it('is admin only and recorded in the audit trail', async () => {
    const created = await server.graphql<{ createApiKey: { secret: string } }>(
      'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }',
      { input: { name: 'reader', scopes: ['READ', 'COMPLETIONS'] } },
      asAdmin,
    );
    const refused = await server.graphql(CHECK, { id: 'openai' }, { authorization: `Bearer ${created.data!.createApiKey.secret}` });
    expect(refused.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    const audit = await server.graphql<{ auditLog: { edges: Array<{ node: { action: string; targetId: string; after: { status: string } } }> } }>(
      '{ auditLog(first: 50) { edges { node { action targetId after } } } }',
      {},
      asAdmin,
    );
    const checks = audit.data!.auditLog.edges.map((edge) => edge.node).filter((node) => node.action === 'provider.check');
    expect(checks.map((node) => `${node.targetId}:${node.after.status}`)).toEqual(expect.arrayContaining(['openai:authFailed', 'groq:timeout', 'groq:ok']));
  });
});

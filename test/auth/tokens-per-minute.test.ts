import { afterEach, describe, expect, it } from 'vitest';
import type { FakeUpstream } from '../conformance/harness.js';
import { ArrivalGate, FAKE_OPENAI_KEY, startFakeOpenAI, type SizedAnswers } from '../fakes/openai.js';
import { startTestServer, type TestServer } from '../helpers/app.js';

/**
 * Issue 14: tokens per minute reserved only the prompt estimate, so a burst on a 100 tokens/min key let 252
 * tokens through before any answer was charged. Admission now reserves the expected completion too.
 */

const ADMIN = 'admin-secret-for-tests-0123456789';
const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` });
const COMPLETE = `mutation($input: CompletionInput!) { createCompletion(input: $input) { usage { totalTokens } } }`;
const CREATE_KEY = `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }`;
const PER_MINUTE = 100;
const BURST = 20;

interface Body {
  data?: { createCompletion: { usage: { totalTokens: number } } } | null;
  errors?: Array<{ extensions?: Record<string, unknown> }>;
}

describe('tokens per minute', () => {
  let server: TestServer | undefined;
  let fake: FakeUpstream | undefined;
  afterEach(async () => {
    await server?.stop();
    await fake?.close();
  });

  for (const maxTokens of [40, undefined]) {
    it(`lets a burst through for at most the limit plus one request's tokens, ${maxTokens === undefined ? 'without' : 'with'} maxTokens`, async () => {
      // Every answer is 40 completion tokens: all of maxTokens when sent, else the fake's own limit of 40.
      const sized: SizedAnswers = { fraction: 1, outputLimit: 40 };
      fake = await startFakeOpenAI({ sizedAnswers: sized });
      server = await startTestServer({ SWITCHBOARD_ADMIN_KEY: ADMIN, OPENAI_API_KEY: FAKE_OPENAI_KEY, OPENAI_BASE_URL: fake.url });
      const create = async (input: Record<string, unknown>) => (await server!.graphql<{ createApiKey: { secret: string } }>(CREATE_KEY, { input }, bearer(ADMIN))).data!.createApiKey.secret;
      const ask = { input: { model: 'openai/gpt-4o-mini', messages: [{ role: 'USER', content: 'count my tokens' }], ...(maxTokens === undefined ? {} : { maxTokens }) } };

      // One request on an unlimited key: its size, and the completion history the limit plans with.
      const one = (await server.graphql(COMPLETE, ask, bearer(await create({ name: 'unlimited', scopes: ['COMPLETIONS'] })))) as Body;
      const oneRequest = one.data!.createCompletion.usage.totalTokens;

      const secret = await create({ name: 'tpm', scopes: ['COMPLETIONS'], rateLimit: { tokensPerMinute: PER_MINUTE } });
      // Answers wait until the whole burst was admitted or refused, so no answer's charge can slow the burst.
      sized.gate = new ArrivalGate(BURST, 1000);
      const results = (await Promise.all(Array.from({ length: BURST }, () => server!.graphql(COMPLETE, ask, bearer(secret))))) as Body[];
      const admitted = results.filter((body) => body.errors === undefined);
      const through = admitted.reduce((sum, body) => sum + body.data!.createCompletion.usage.totalTokens, 0);
      console.log(`tokens per minute ${PER_MINUTE}, ${maxTokens === undefined ? 'without' : 'with'} maxTokens: ${admitted.length} of ${BURST} admitted, ${through} tokens through (one request: ${oneRequest})`);
      expect(admitted.length).toBeGreaterThan(0);
      for (const body of results.filter((result) => result.errors)) expect(body.errors![0]!.extensions!['code']).toBe('RATE_LIMITED');
      expect(through).toBeLessThanOrEqual(PER_MINUTE + oneRequest);
    });
  }
});

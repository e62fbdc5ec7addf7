import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeUpstream } from '../conformance/harness.js';
import { FAKE_OPENAI_KEY, startFakeOpenAI } from '../fakes/openai.js';
import { startTestServer, type TestServer } from '../helpers/app.js';
import { subscribeSse } from '../helpers/subscriptions.js';

/** The Chat Completions parameters through GraphQL's CompletionInput: the same pass, warn or refuse as REST. */

const COMPLETE = `mutation($input: CompletionInput!) {
  createCompletion(input: $input) {
    id message { content } warnings serviceTier
    logprobs { token logprob topLogprobs { token } }
    choices { index message { content } finishReason logprobs { token logprob } }
    usage { completionTokens costKnown }
  }
}`;

interface Completion {
  id: string;
  message: { content: string };
  warnings: string[];
  serviceTier: string | null;
  logprobs: Array<{ token: string; logprob: number; topLogprobs: Array<{ token: string }> }> | null;
  choices: Array<{ index: number; message: { content: string }; finishReason: string; logprobs: Array<{ token: string; logprob: number }> | null }>;
  usage: { completionTokens: number; costKnown: boolean };
}

describe('CompletionInput parameters', () => {
  let fake: FakeUpstream;
  let server: TestServer;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    server = await startTestServer({ OPENAI_API_KEY: FAKE_OPENAI_KEY, OPENAI_BASE_URL: fake.url });
  });
  afterAll(async () => {
    await server.stop();
    await fake.close();
  });

  const messages = [{ role: 'USER', content: 'alpha beta' }];

  it('passes them to OpenAI under its names, and lists n choices with their log probabilities', async () => {
    const body = await server.graphql<{ createCompletion: Completion }>(COMPLETE, {
      input: { model: 'openai/gpt-4o-mini', messages, n: 2, logprobs: true, topLogprobs: 1, presencePenalty: 0.5, frequencyPenalty: 0.5, logitBias: { '50256': -100 }, reasoningEffort: 'LOW', store: false, user: 'ann' },
    });
    expect(body.errors).toBeUndefined();
    expect(fake.received.at(-1)?.body).toMatchObject({ n: 2, logprobs: true, top_logprobs: 1, presence_penalty: 0.5, frequency_penalty: 0.5, logit_bias: { '50256': -100 }, reasoning_effort: 'low', store: false, user: 'ann' });
    const completion = body.data!.createCompletion;
    expect(completion.choices.map((choice) => [choice.index, choice.message.content])).toEqual([
      [0, 'You said: alpha beta'],
      [1, 'You said: alpha beta (choice 1)'],
    ]);
    expect(completion.message.content).toBe(completion.choices[0]!.message.content);
    expect(completion.choices[1]!.logprobs?.map((entry) => entry.token)).toEqual(['You ', 'said: ', 'alpha ', 'beta ', '(choice ', '1)']);
    expect(completion.choices[0]!.logprobs?.[0]).toEqual({ token: 'You ', logprob: -0.25 });
    expect(completion.logprobs?.[0]).toEqual({ token: 'You ', logprob: -0.25, topLogprobs: [{ token: 'You ' }] });
    expect(completion.warnings).toEqual([]);
    expect(completion.serviceTier).toBe('default');
  });

  it('warns for what the provider cannot honour, and refuses it under strict, naming the argument', async () => {
    const warned = await server.graphql<{ createCompletion: Completion }>(COMPLETE, { input: { model: 'local/echo', messages, presencePenalty: 1 } });
    expect(warned.data?.createCompletion.warnings).toEqual([expect.stringContaining('presencePenalty')]);
    expect(warned.data?.createCompletion.choices).toHaveLength(1);
    expect(warned.data?.createCompletion.choices[0]?.logprobs).toBeNull();

    const refused = await server.graphql(COMPLETE, { input: { model: 'local/echo', messages, presencePenalty: 1, strict: true } });
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_REQUEST', field: 'presencePenalty', argumentPath: 'input.presencePenalty' });
    const badBias = await server.graphql(COMPLETE, { input: { model: 'openai/gpt-4o-mini', messages, logitBias: { word: 3 } } });
    expect(badBias.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_REQUEST', field: 'logitBias' });
  });

  it('streams each delta’s log probabilities', async () => {
    const results = await subscribeSse(
      server.url,
      'subscription($input: CompletionInput!) { completionStream(input: $input) { __typename ... on CompletionDelta { text logprobs { token topLogprobs { token } } } } }',
      { input: { model: 'openai/gpt-4o-mini', messages, logprobs: true, topLogprobs: 1 } },
    );
    const deltas = results.map((result) => (result.data as { completionStream: { __typename: string; text?: string; logprobs?: Array<{ token: string; topLogprobs: Array<{ token: string }> }> | null } }).completionStream).filter((event) => event.__typename === 'CompletionDelta' && event.text !== '');
    expect(deltas.map((delta) => delta.text).join('')).toBe('You said: alpha beta');
    expect(deltas.map((delta) => delta.logprobs?.map((entry) => entry.token).join(''))).toEqual(deltas.map((delta) => delta.text));
    expect(deltas.every((delta) => delta.logprobs?.every((entry) => entry.topLogprobs.length === 1))).toBe(true);
  });
});

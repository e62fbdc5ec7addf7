import OpenAI, { BadRequestError } from 'openai';
import type { ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeUpstream } from '../conformance/harness.js';
import { FAKE_ANTHROPIC_KEY, startFakeAnthropic } from '../fakes/anthropic.js';
import { startFakeGemini } from '../fakes/gemini.js';
import { startFakeOllama } from '../fakes/ollama.js';
import { startFakeOpenAICompatible } from '../fakes/openai-compatible.js';
import { FAKE_OPENAI_KEY, startFakeOpenAI } from '../fakes/openai.js';
import { startTestServer, type TestServer } from '../helpers/app.js';

/**
 * README's parameter table, row by row: for each Chat Completions parameter and each provider family, what the fake
 * upstream received and what the caller was told (the answer and x-switchboard-warnings), and, for each parameter a
 * provider cannot honour, that x-switchboard-strict turns the warning into a 400 naming it before anything is sent.
 */

const GEMINI_KEY = 'gemini-fake-key-0123456789';
const MISTRAL_KEY = 'mistral-fake-0123456789';
const GROQ_KEY = 'gsk-fake-0123456789';

type Family = 'openai' | 'openai-compatible (mistral)' | 'openai-compatible (groq)' | 'anthropic' | 'gemini' | 'ollama';

const MODELS: Record<Family, string> = {
  openai: 'openai/gpt-4o-mini',
  'openai-compatible (mistral)': 'mistral/mistral-small-latest',
  'openai-compatible (groq)': 'groq/llama-3.3-70b-versatile',
  anthropic: 'anthropic/claude-sonnet-4-6',
  gemini: 'gemini/gemini-2.5-flash',
  ollama: 'ollama/llama3.2:latest',
};

type Body = Record<string, unknown>;

/** What the parameter did: the upstream field it arrived in (checked by `sent`), or the warning it became. */
type Outcome = { kind: 'passed' | 'mapped'; sent: (body: Body) => unknown; expected: unknown } | { kind: 'warned'; field: string };

interface Row {
  param: string;
  /** The request fields that exercise it (tools for parallel_tool_calls). */
  request: Partial<ChatCompletionCreateParamsNonStreaming>;
  outcomes: Record<Family, Outcome>;
}

const LOOK_TOOL = { type: 'function' as const, function: { name: 'look', parameters: { type: 'object', properties: {} } } };

function record(value: unknown): Body {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Body) : {};
}
const field = (name: string) => (body: Body) => body[name];
const nested = (...path: string[]) => (body: Body) => path.reduce<unknown>((value, key) => record(value)[key], body);
const passed = (name: string, expected: unknown): Outcome => ({ kind: 'passed', sent: field(name), expected });
const mapped = (sent: (body: Body) => unknown, expected: unknown): Outcome => ({ kind: 'mapped', sent, expected });
const warned = (name: string): Outcome => ({ kind: 'warned', field: name });

const ROWS: Row[] = [
  {
    param: 'presence_penalty',
    request: { presence_penalty: 0.5 },
    outcomes: {
      openai: passed('presence_penalty', 0.5),
      'openai-compatible (mistral)': passed('presence_penalty', 0.5),
      'openai-compatible (groq)': passed('presence_penalty', 0.5),
      anthropic: warned('presencePenalty'),
      gemini: mapped(nested('generationConfig', 'presencePenalty'), 0.5),
      ollama: mapped(nested('options', 'presence_penalty'), 0.5),
    },
  },
  {
    param: 'frequency_penalty',
    request: { frequency_penalty: -0.25 },
    outcomes: {
      openai: passed('frequency_penalty', -0.25),
      'openai-compatible (mistral)': passed('frequency_penalty', -0.25),
      'openai-compatible (groq)': passed('frequency_penalty', -0.25),
      anthropic: warned('frequencyPenalty'),
      gemini: mapped(nested('generationConfig', 'frequencyPenalty'), -0.25),
      ollama: mapped(nested('options', 'frequency_penalty'), -0.25),
    },
  },
  {
    param: 'logit_bias',
    request: { logit_bias: { '50256': -100 } },
    outcomes: {
      openai: passed('logit_bias', { '50256': -100 }),
      'openai-compatible (mistral)': warned('logitBias'),
      'openai-compatible (groq)': warned('logitBias'),
      anthropic: warned('logitBias'),
      gemini: warned('logitBias'),
      ollama: warned('logitBias'),
    },
  },
  {
    param: 'parallel_tool_calls',
    request: { parallel_tool_calls: false, tools: [LOOK_TOOL] },
    outcomes: {
      openai: passed('parallel_tool_calls', false),
      'openai-compatible (mistral)': passed('parallel_tool_calls', false),
      'openai-compatible (groq)': passed('parallel_tool_calls', false),
      anthropic: mapped(nested('tool_choice', 'disable_parallel_tool_use'), true),
      gemini: warned('parallelToolCalls'),
      ollama: warned('parallelToolCalls'),
    },
  },
  {
    param: 'reasoning_effort',
    request: { reasoning_effort: 'low' },
    outcomes: {
      openai: passed('reasoning_effort', 'low'),
      'openai-compatible (mistral)': warned('reasoningEffort'),
      'openai-compatible (groq)': passed('reasoning_effort', 'low'),
      anthropic: mapped(field('thinking'), { type: 'enabled', budget_tokens: 4096 }),
      gemini: mapped(nested('generationConfig', 'thinkingConfig'), { thinkingBudget: 4096 }),
      ollama: mapped(field('think'), 'low'),
    },
  },
  {
    param: 'service_tier',
    request: { service_tier: 'flex' },
    outcomes: {
      openai: passed('service_tier', 'flex'),
      'openai-compatible (mistral)': warned('serviceTier'),
      'openai-compatible (groq)': passed('service_tier', 'flex'),
      anthropic: warned('serviceTier'),
      gemini: warned('serviceTier'),
      ollama: warned('serviceTier'),
    },
  },
  {
    param: 'store',
    request: { store: true },
    outcomes: {
      openai: passed('store', true),
      'openai-compatible (mistral)': warned('store'),
      'openai-compatible (groq)': warned('store'),
      anthropic: warned('store'),
      gemini: warned('store'),
      ollama: warned('store'),
    },
  },
  {
    param: 'seed',
    request: { seed: 7 },
    outcomes: {
      openai: passed('seed', 7),
      'openai-compatible (mistral)': mapped(field('random_seed'), 7),
      'openai-compatible (groq)': passed('seed', 7),
      anthropic: warned('seed'),
      gemini: mapped(nested('generationConfig', 'seed'), 7),
      ollama: mapped(nested('options', 'seed'), 7),
    },
  },
  {
    param: 'n',
    request: { n: 2 },
    outcomes: {
      openai: passed('n', 2),
      'openai-compatible (mistral)': passed('n', 2),
      'openai-compatible (groq)': warned('n'),
      anthropic: warned('n'),
      gemini: mapped(nested('generationConfig', 'candidateCount'), 2),
      ollama: warned('n'),
    },
  },
  {
    param: 'logprobs',
    request: { logprobs: true },
    outcomes: {
      openai: passed('logprobs', true),
      'openai-compatible (mistral)': warned('logprobs'),
      'openai-compatible (groq)': warned('logprobs'),
      anthropic: warned('logprobs'),
      gemini: mapped(nested('generationConfig', 'responseLogprobs'), true),
      ollama: passed('logprobs', true),
    },
  },
  {
    param: 'top_logprobs',
    request: { top_logprobs: 2 },
    outcomes: {
      openai: passed('top_logprobs', 2),
      'openai-compatible (mistral)': warned('topLogprobs'),
      'openai-compatible (groq)': warned('topLogprobs'),
      anthropic: warned('topLogprobs'),
      gemini: mapped(nested('generationConfig', 'logprobs'), 2),
      ollama: passed('top_logprobs', 2),
    },
  },
];

const FAMILIES = Object.keys(MODELS) as Family[];

describe('every Chat Completions parameter, per provider family, through the official openai SDK', () => {
  const fakes = {} as Record<Family, FakeUpstream>;
  let server: TestServer;
  let client: OpenAI;

  beforeAll(async () => {
    fakes.openai = await startFakeOpenAI();
    fakes['openai-compatible (mistral)'] = await startFakeOpenAICompatible('mistral', { apiKey: MISTRAL_KEY });
    fakes['openai-compatible (groq)'] = await startFakeOpenAICompatible('groq', { apiKey: GROQ_KEY });
    fakes.anthropic = await startFakeAnthropic();
    fakes.gemini = await startFakeGemini({ apiKey: GEMINI_KEY });
    fakes.ollama = await startFakeOllama();
    server = await startTestServer({
      OPENAI_API_KEY: FAKE_OPENAI_KEY,
      OPENAI_BASE_URL: fakes.openai.url,
      MISTRAL_API_KEY: MISTRAL_KEY,
      MISTRAL_BASE_URL: fakes['openai-compatible (mistral)'].url,
      GROQ_API_KEY: GROQ_KEY,
      GROQ_BASE_URL: fakes['openai-compatible (groq)'].url,
      ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY,
      ANTHROPIC_BASE_URL: fakes.anthropic.url,
      GEMINI_API_KEY: GEMINI_KEY,
      GEMINI_BASE_URL: fakes.gemini.url,
      OLLAMA_BASE_URL: fakes.ollama.url,
    });
    client = new OpenAI({ apiKey: 'sk-anything', baseURL: `${server.url}/v1`, maxRetries: 0 });
  });
  afterAll(async () => {
    await server.stop();
    await Promise.all(Object.values(fakes).map((fake) => fake.close()));
  });

  function body(family: Family, row: Row): ChatCompletionCreateParamsNonStreaming {
    // Above the low effort's thinking budget (4096), so Anthropic's mapping is not clipped by max_tokens.
    return { model: MODELS[family], messages: [{ role: 'user', content: 'Say hello' }], max_tokens: 8000, ...row.request };
  }

  const cells = ROWS.flatMap((row) => FAMILIES.map((family) => ({ row, family, outcome: row.outcomes[family] })));

  it.each(cells.map((cell) => [cell.row.param, cell.family, cell.outcome.kind, cell] as const))('%s on %s: %s', async (_param, family, _kind, { row, outcome }) => {
    const fake = fakes[family];
    const before = fake.received.length;
    const { data, response } = await client.chat.completions.create(body(family, row)).withResponse();
    expect(data.choices[0]?.message.content).toBeTruthy();
    expect(fake.received).toHaveLength(before + 1);
    const sent = record(fake.received.at(-1)?.body);
    const warnings = JSON.parse(response.headers.get('x-switchboard-warnings') ?? '[]') as string[];
    // n honoured is n choices back; n dropped is the one choice the provider made.
    if (row.param === 'n') expect(data.choices).toHaveLength(outcome.kind === 'warned' ? 1 : 2);
    if (outcome.kind === 'warned') {
      // That warning and no other: a dropped service_tier, say, is not also reported unpriced (it is priced as standard).
      expect(warnings).toEqual([expect.stringContaining(outcome.field)]);
      // Not sent under its own name (nor, for Mistral's 422-on-unknown-field fake, at all: the answer above came).
      expect(sent[row.param]).toBeUndefined();
    } else {
      expect(outcome.sent(sent)).toEqual(outcome.expected);
      expect(warnings).toEqual(
        // A flex tier is sent, and told to be unpriced rather than priced at the standard tier.
        row.param === 'service_tier' ? [expect.stringContaining('service tier "flex" is not priced')] : [],
      );
    }
  });

  const refusals = cells.filter((cell) => cell.outcome.kind === 'warned');

  it.each(refusals.map((cell) => [cell.row.param, cell.family, cell] as const))('%s on %s under x-switchboard-strict: a 400 naming it, nothing sent', async (param, family, { row }) => {
    const fake = fakes[family];
    const before = fake.received.length;
    const error = await client.chat.completions.create(body(family, row), { headers: { 'x-switchboard-strict': 'true' } }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error).toMatchObject({ status: 400, param, type: 'invalid_request_error' });
    expect((error as Error).message).toContain(param);
    expect(fake.received).toHaveLength(before);
  });

  it('strict changes nothing for a parameter the provider honours', async () => {
    const { data } = await client.chat.completions.create({ model: MODELS.openai, messages: [{ role: 'user', content: 'hi' }], presence_penalty: 1 }, { headers: { 'x-switchboard-strict': 'true' } }).withResponse();
    expect(data.choices).toHaveLength(1);
    await expect(client.chat.completions.create({ model: MODELS.openai, messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-switchboard-strict': 'maybe' } })).rejects.toMatchObject({ status: 400 });
  });

  it('n = 3 on OpenAI: three choices in order, one ledger row with the usage of all of them', async () => {
    const single = await client.chat.completions.create({ model: MODELS.openai, messages: [{ role: 'user', content: 'one two three' }] });
    const { data, response } = await client.chat.completions.create({ model: MODELS.openai, messages: [{ role: 'user', content: 'one two three' }], n: 3 }).withResponse();
    expect(data.choices.map((choice) => choice.index)).toEqual([0, 1, 2]);
    expect(data.choices.map((choice) => choice.message.content)).toEqual(['You said: one two three', 'You said: one two three (choice 1)', 'You said: one two three (choice 2)']);
    expect(data.usage?.completion_tokens).toBe(3 * (single.usage?.completion_tokens ?? 0));
    const id = response.headers.get('x-switchboard-generation-id');
    const rows = await server.graphql<{ generations: { totalCount: number } }>('query { generations(filter: { model: "openai/gpt-4o-mini" }) { totalCount } }');
    const row = await server.graphql<{ generation: { usage: { completionTokens: number; costUsd: number }; requestSummary: { choices: number } } }>(
      'query ($id: ID!) { generation(id: $id) { usage { completionTokens costUsd } requestSummary { choices } } }',
      { id },
    );
    expect(row.data?.generation.usage.completionTokens).toBe(data.usage?.completion_tokens);
    expect(row.data?.generation.requestSummary.choices).toBe(3);
    expect(row.data?.generation.usage.costUsd).toBeGreaterThan(0);
    // Two requests above, two rows (a row per request, not per choice), plus whatever the table's cases made.
    expect(rows.data?.generations.totalCount).toBeGreaterThanOrEqual(2);
  });

  it('n = 2 on Gemini: candidateCount, both candidates in order, usage of both', async () => {
    const { data } = await client.chat.completions.create({ model: MODELS.gemini, messages: [{ role: 'user', content: 'two words' }], n: 2 }).withResponse();
    expect(data.choices.map((choice) => [choice.index, choice.message.content])).toEqual([
      [0, 'You said: two words'],
      [1, 'You said: two words (candidate 1)'],
    ]);
    const single = await client.chat.completions.create({ model: MODELS.gemini, messages: [{ role: 'user', content: 'two words' }] });
    expect(data.usage?.completion_tokens).toBe(2 * (single.usage?.completion_tokens ?? 0));
  });

  it('refuses values out of OpenAI’s ranges, naming the parameter, before any upstream call', async () => {
    const before = fakes.openai.received.length;
    const hi = [{ role: 'user' as const, content: 'hi' }];
    const cases: Array<[Partial<ChatCompletionCreateParamsNonStreaming>, string]> = [
      [{ presence_penalty: 2.5 }, 'presence_penalty'],
      [{ frequency_penalty: -3 }, 'frequency_penalty'],
      [{ top_logprobs: 21 }, 'top_logprobs'],
      [{ logit_bias: { '50256': 101 } }, 'logit_bias.50256'],
      [{ logit_bias: { hello: 1 } }, 'logit_bias'],
      [{ logit_bias: Object.fromEntries(Array.from({ length: 1025 }, (_, token) => [String(token), 1])) }, 'logit_bias'],
      [{ service_tier: 'x'.repeat(33) as 'flex' }, 'service_tier'],
      [{ n: 0 }, 'n'],
    ];
    for (const [extra, param] of cases) {
      await expect(client.chat.completions.create({ model: MODELS.openai, messages: hi, ...extra })).rejects.toMatchObject({ status: 400, param });
    }
    expect(fakes.openai.received).toHaveLength(before);
  });

  it('n > 1 with stream is refused naming n; n = 129 is out of range', async () => {
    await expect(client.chat.completions.create({ model: MODELS.openai, messages: [{ role: 'user', content: 'hi' }], n: 2, stream: true })).rejects.toMatchObject({ status: 400, param: 'n' });
    await expect(client.chat.completions.create({ model: MODELS.openai, messages: [{ role: 'user', content: 'hi' }], n: 129 })).rejects.toMatchObject({ status: 400, param: 'n' });
  });

  it('logprobs and top_logprobs come back as OpenAI sends them, whole and streamed', async () => {
    const answer = await client.chat.completions.create({ model: MODELS.openai, messages: [{ role: 'user', content: 'alpha beta' }], logprobs: true, top_logprobs: 2 });
    const content = answer.choices[0]?.logprobs?.content ?? [];
    // The fake echoes "You said: <prompt>", one token per word.
    expect(content.map((entry) => entry.token)).toEqual(['You ', 'said: ', 'alpha ', 'beta']);
    expect(content[2]).toEqual({ token: 'alpha ', logprob: -0.75, bytes: [...Buffer.from('alpha ')], top_logprobs: [{ token: 'alpha ', logprob: -0.75, bytes: [...Buffer.from('alpha ')] }, { token: 'alpha ~1', logprob: -1.75, bytes: [...Buffer.from('alpha ~1')] }] });
    expect(fakes.openai.received.at(-1)?.body).toMatchObject({ logprobs: true, top_logprobs: 2 });

    const stream = await client.chat.completions.create({ model: MODELS.openai, messages: [{ role: 'user', content: 'alpha beta' }], logprobs: true, top_logprobs: 1, stream: true });
    const tokens: string[] = [];
    for await (const chunk of stream) for (const entry of chunk.choices[0]?.logprobs?.content ?? []) tokens.push(`${entry.token}:${entry.top_logprobs.length}`);
    expect(tokens).toEqual(['You :1', 'said: :1', 'alpha :1', 'beta:1']);
  });

  it('Gemini’s logprobsResult comes back in OpenAI’s shape, whole and streamed (Gemini gives no bytes)', async () => {
    const answer = await client.chat.completions.create({ model: MODELS.gemini, messages: [{ role: 'user', content: 'alpha beta' }], logprobs: true, top_logprobs: 2 });
    const content = answer.choices[0]?.logprobs?.content ?? [];
    expect(content.map((entry) => entry.token)).toEqual(['You ', 'said: ', 'alpha ', 'beta']);
    expect(content[1]).toEqual({ token: 'said: ', logprob: -1, bytes: null, top_logprobs: [{ token: 'said: ', logprob: -1, bytes: null }, { token: 'said: #1', logprob: -2, bytes: null }] });
    expect(record(fakes.gemini.received.at(-1)?.body)['generationConfig']).toMatchObject({ responseLogprobs: true, logprobs: 2 });

    const stream = await client.chat.completions.create({ model: MODELS.gemini, messages: [{ role: 'user', content: 'alpha beta' }], logprobs: true, stream: true });
    const tokens: string[] = [];
    for await (const chunk of stream) for (const entry of chunk.choices[0]?.logprobs?.content ?? []) tokens.push(entry.token);
    expect(tokens).toEqual(['You ', 'said: ', 'alpha ', 'beta']);
  });

  it('Ollama’s logprobs come back in OpenAI’s shape, whole and streamed (Ollama gives no bytes)', async () => {
    const answer = await client.chat.completions.create({ model: MODELS.ollama, messages: [{ role: 'user', content: 'alpha beta' }], top_logprobs: 2 });
    const content = answer.choices[0]?.logprobs?.content ?? [];
    expect(content.map((entry) => entry.token).join('')).toBe(answer.choices[0]?.message.content);
    expect(content[0]).toEqual({ token: content[0]?.token, logprob: -0.125, bytes: null, top_logprobs: [{ token: content[0]?.token, logprob: -0.125, bytes: null }, { token: `${content[0]?.token}%1`, logprob: -1.125, bytes: null }] });
    // top_logprobs alone asks for logprobs too, as OpenAI requires.
    expect(fakes.ollama.received.at(-1)?.body).toMatchObject({ logprobs: true, top_logprobs: 2 });

    const stream = await client.chat.completions.create({ model: MODELS.ollama, messages: [{ role: 'user', content: 'alpha beta' }], logprobs: true, stream: true });
    let text = '';
    let tokens = '';
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      for (const entry of chunk.choices[0]?.logprobs?.content ?? []) tokens += entry.token;
    }
    expect(tokens).toBe(text);
    expect(text).not.toBe('');
  });

  it('without logprobs the choice says null, as OpenAI does', async () => {
    const answer = await client.chat.completions.create({ model: MODELS.openai, messages: [{ role: 'user', content: 'x' }] });
    expect(answer.choices[0]?.logprobs).toBeNull();
  });

  it('service_tier flex on OpenAI is recorded unpriced; default is priced; dropped (Anthropic) is priced as standard', async () => {
    const dropped = await client.chat.completions.create({ model: MODELS.anthropic, messages: [{ role: 'user', content: 'x' }], service_tier: 'flex', max_tokens: 100 }).withResponse();
    expect(Number(dropped.response.headers.get('x-switchboard-cost-usd'))).toBeGreaterThan(0);
    const flex = await client.chat.completions.create({ model: MODELS.openai, messages: [{ role: 'user', content: 'x' }], service_tier: 'flex' }).withResponse();
    expect(flex.data.service_tier).toBe('flex');
    expect(flex.response.headers.get('x-switchboard-cost-usd')).toBeNull();
    const row = await server.graphql<{ generation: { usage: { costKnown: boolean } } }>('query ($id: ID!) { generation(id: $id) { usage { costKnown } } }', { id: flex.response.headers.get('x-switchboard-generation-id') });
    expect(row.data?.generation.usage.costKnown).toBe(false);
    const standard = await client.chat.completions.create({ model: MODELS.openai, messages: [{ role: 'user', content: 'x' }], service_tier: 'default' }).withResponse();
    expect(standard.data.service_tier).toBe('default');
    expect(Number(standard.response.headers.get('x-switchboard-cost-usd'))).toBeGreaterThan(0);
    // Streamed, the tier asked for decides (the fake's chunks, like many servers', do not name one).
    const stream = await client.chat.completions.create({ model: MODELS.openai, messages: [{ role: 'user', content: 'x' }], service_tier: 'flex', stream: true, stream_options: { include_usage: true } });
    let cost: unknown = 'none';
    for await (const chunk of stream) if (chunk.usage) cost = (chunk.usage as unknown as { cost_usd: unknown }).cost_usd;
    expect(cost).toBeNull();
  });

  it('reasoning_effort none turns Anthropic thinking off; an effort above max_tokens is clipped under it', async () => {
    await client.chat.completions.create({ model: MODELS.anthropic, messages: [{ role: 'user', content: 'x' }], reasoning_effort: 'none' as 'low', max_tokens: 2000 });
    expect(record(fakes.anthropic.received.at(-1)?.body)['thinking']).toEqual({ type: 'disabled' });
    await client.chat.completions.create({ model: MODELS.anthropic, messages: [{ role: 'user', content: 'x' }], reasoning_effort: 'high', max_tokens: 5000 });
    expect(record(fakes.anthropic.received.at(-1)?.body)['thinking']).toEqual({ type: 'enabled', budget_tokens: 4999 });
    const tooSmall = await client.chat.completions.create({ model: MODELS.anthropic, messages: [{ role: 'user', content: 'x' }], reasoning_effort: 'low', max_tokens: 500 }).withResponse();
    expect(record(fakes.anthropic.received.at(-1)?.body)['thinking']).toBeUndefined();
    expect(tooSmall.response.headers.get('x-switchboard-warnings')).toContain('reasoningEffort');
  });

  it('the Responses API’s reasoning.effort reaches OpenAI as reasoning_effort and Anthropic as a thinking budget', async () => {
    await client.responses.create({ model: MODELS.openai, input: 'think', reasoning: { effort: 'medium' } });
    expect(record(fakes.openai.received.at(-1)?.body)['reasoning_effort']).toBe('medium');
    const { response } = await client.responses.create({ model: MODELS.anthropic, input: 'think', reasoning: { effort: 'low' }, max_output_tokens: 8000 }).withResponse();
    expect(record(fakes.anthropic.received.at(-1)?.body)['thinking']).toEqual({ type: 'enabled', budget_tokens: 4096 });
    expect(response.headers.get('x-switchboard-warnings')).toBeNull();
  });
});

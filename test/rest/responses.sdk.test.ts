import OpenAI, { BadRequestError, NotFoundError } from 'openai';
import type { ResponseStreamEvent } from 'openai/resources/responses/responses';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FakeUpstream } from '../conformance/harness.js';
import { FAKE_ANTHROPIC_KEY, startFakeAnthropic } from '../fakes/anthropic.js';
import { FAKE_OPENAI_KEY, startFakeOpenAI } from '../fakes/openai.js';
import { startTestServer, type TestServer } from '../helpers/app.js';
import { RetentionJob } from '../../src/usage/retention.js';

/**
 * POST /v1/responses (and GET /v1/responses/{id}) through the official openai SDK's `responses.create`, as a user
 * would call it, against two providers behind their fake upstreams: OpenAI's Chat Completions and Anthropic's
 * Messages. Content is stored (SWITCHBOARD_STORE_CONTENT), so previous_response_id works.
 */
const ADMIN_KEY = 'sk-admin-responses-test';
let server: TestServer;
let openaiFake: FakeUpstream;
let anthropicFake: FakeUpstream;
let admin: OpenAI;

const PROVIDERS = [
  { name: 'openai', model: 'openai/gpt-4o-mini', fake: () => openaiFake },
  { name: 'anthropic', model: 'anthropic/claude-sonnet-4-6', fake: () => anthropicFake },
] as const;

/** Our usage carries the cost beside OpenAI's fields. */
type UsageWithCost = OpenAI.Responses.ResponseUsage & { cost_usd?: number | null };

const weatherTool: OpenAI.Responses.FunctionTool = {
  type: 'function',
  name: 'get_weather',
  description: 'Weather for a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false },
  strict: true,
};

function clientFor(apiKey: string): OpenAI {
  return new OpenAI({ apiKey, baseURL: `${server.url}/v1`, maxRetries: 0 });
}

async function createKey(name: string): Promise<string> {
  const body = await server.graphql<{ createApiKey: { secret: string } }>(
    'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }',
    { input: { name, scopes: ['COMPLETIONS'] } },
    { authorization: `Bearer ${ADMIN_KEY}` },
  );
  if (!body.data) throw new Error(JSON.stringify(body.errors));
  return body.data.createApiKey.secret;
}

beforeAll(async () => {
  openaiFake = await startFakeOpenAI();
  anthropicFake = await startFakeAnthropic();
  server = await startTestServer({
    SWITCHBOARD_ADMIN_KEY: ADMIN_KEY,
    SWITCHBOARD_STORE_CONTENT: 'true',
    OPENAI_API_KEY: FAKE_OPENAI_KEY,
    OPENAI_BASE_URL: openaiFake.url,
    ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY,
    ANTHROPIC_BASE_URL: anthropicFake.url,
  });
  admin = clientFor(ADMIN_KEY);
});
afterAll(async () => {
  await server.stop();
  await openaiFake.close();
  await anthropicFake.close();
});

describe.each(PROVIDERS)('responses.create through the openai SDK, served by $name', ({ model, fake }) => {
  beforeEach(() => {
    fake().received.length = 0;
  });

  it('answers a plain request with the response object, usage and cost', async () => {
    fake().enqueue({ kind: 'text', text: 'Hello from upstream.', promptTokens: 1000, completionTokens: 200 });
    const { data: response, response: http } = await admin.responses
      .create({ model, instructions: 'Be brief.', input: 'Hi', max_output_tokens: 64, temperature: 0.3, top_p: 0.8, metadata: { ticket: '7' }, user: 'user-7' })
      .withResponse();

    expect(response.object).toBe('response');
    expect(response.id).toMatch(/^resp_/);
    expect(response.status).toBe('completed');
    expect(response.model).toBe(model);
    expect(response.output_text).toBe('Hello from upstream.');
    expect(response.output[0]).toMatchObject({ type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'Hello from upstream.' }] });
    expect(response.usage).toMatchObject({ input_tokens: 1000, output_tokens: 200, total_tokens: 1200, input_tokens_details: { cached_tokens: 0 } });
    expect((response.usage as UsageWithCost).cost_usd).toBeGreaterThan(0);
    expect(response.metadata).toEqual({ ticket: '7' });
    expect(http.headers.get('x-switchboard-generation-id')).toBe(response.id.replace(/^resp_/, 'gen_'));

    // The instructions reached the provider as its system prompt, the input as the user's turn.
    const sent = JSON.stringify(fake().received[0]?.body);
    expect(sent).toContain('Be brief.');
    expect(sent).toContain('Hi');
  });

  it('streams the Responses event sequence with sequence numbers, ending in response.completed with usage and cost', async () => {
    fake().enqueue({ kind: 'text', text: 'One two three four.', promptTokens: 30, completionTokens: 8 });
    const stream = await admin.responses.create({ model, input: 'Count', stream: true });
    const events: ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);

    const types = events.map((event) => event.type);
    expect(types.slice(0, 4)).toEqual(['response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added']);
    expect(types.slice(-4)).toEqual(['response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.completed']);
    expect(events.map((event) => event.sequence_number)).toEqual(events.map((_, index) => index));

    const deltas = events.flatMap((event) => (event.type === 'response.output_text.delta' ? [event.delta] : []));
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.join('')).toBe('One two three four.');
    const done = events.find((event) => event.type === 'response.output_text.done');
    expect(done?.type === 'response.output_text.done' && done.text).toBe('One two three four.');

    const completed = events.at(-1);
    if (completed?.type !== 'response.completed') throw new Error('no response.completed');
    expect(completed.response.output_text ?? completed.response.output.flatMap((item) => (item.type === 'message' ? item.content : [])).map((part) => (part.type === 'output_text' ? part.text : '')).join('')).toBe('One two three four.');
    expect(completed.response.usage).toMatchObject({ input_tokens: 30, output_tokens: 8, total_tokens: 38 });
    expect((completed.response.usage as UsageWithCost).cost_usd).toBeGreaterThan(0);
  });

  it('streams a function call as output_item.added, function_call_arguments.delta/.done and output_item.done', async () => {
    fake().enqueue({ kind: 'tool-call', id: 'call_stream_1', name: 'get_weather', arguments: '{"city":"Paris"}', promptTokens: 20, completionTokens: 9 });
    const stream = await admin.responses.create({ model, input: 'Weather in Paris?', tools: [weatherTool], stream: true });
    const events: ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    // A provider may say something before the call (Anthropic's text block): the call is its own item either way.
    const added = events.find((event) => event.type === 'response.output_item.added' && event.item.type === 'function_call');
    expect(added?.type === 'response.output_item.added' && added.item).toMatchObject({ type: 'function_call', call_id: 'call_stream_1', name: 'get_weather' });
    const argumentsDone = events.find((event) => event.type === 'response.function_call_arguments.done');
    expect(argumentsDone?.type === 'response.function_call_arguments.done' && JSON.parse(argumentsDone.arguments)).toEqual({ city: 'Paris' });
    const argumentDeltas = events.flatMap((event) => (event.type === 'response.function_call_arguments.delta' ? [event.delta] : []));
    expect(JSON.parse(argumentDeltas.join(''))).toEqual({ city: 'Paris' });
    expect(events.at(-1)?.type).toBe('response.completed');
  });

  it('ends a stream that fails after its first token with an error event and response.failed', async () => {
    fake().enqueue({ kind: 'mid-stream-error', textBefore: 'Partial answer' });
    const stream = await admin.responses.create({ model, input: 'Fail midway', stream: true });
    const events: ResponseStreamEvent[] = [];
    for await (const event of stream) events.push(event);
    expect(events.map((event) => event.type).slice(-2)).toEqual(['error', 'response.failed']);
    expect(events.map((event) => event.sequence_number)).toEqual(events.map((_, index) => index));
    const failed = events.at(-1);
    if (failed?.type !== 'response.failed') throw new Error('no response.failed');
    expect(failed.response.status).toBe('failed');
    expect(failed.response.error).toMatchObject({ code: 'provider_error' });
  });

  it('runs a function-tool round trip through previous_response_id', async () => {
    fake().enqueue({ kind: 'tool-call', id: 'call_prev_1', name: 'get_weather', arguments: '{"city":"Paris"}', promptTokens: 20, completionTokens: 9 });
    const first = await admin.responses.create({ model, instructions: 'Use the tools.', input: 'Weather in Paris?', tools: [weatherTool] });
    const call = first.output.find((item) => item.type === 'function_call');
    if (call?.type !== 'function_call') throw new Error('no function call');
    expect(call).toMatchObject({ call_id: 'call_prev_1', name: 'get_weather', arguments: '{"city":"Paris"}' });

    fake().enqueue({ kind: 'text', text: 'It is sunny in Paris.', promptTokens: 40, completionTokens: 6 });
    const second = await admin.responses.create({
      model,
      instructions: 'Use the tools.',
      previous_response_id: first.id,
      input: [{ type: 'function_call_output', call_id: call.call_id, output: '{"sky":"sunny-and-21C"}' }],
      tools: [weatherTool],
    });
    expect(second.output_text).toBe('It is sunny in Paris.');
    expect(second.previous_response_id).toBe(first.id);

    // The provider got the whole conversation: the question, its own call, and the call's output, once each.
    const sent = JSON.stringify(fake().received[1]?.body);
    expect(sent).toContain('Weather in Paris?');
    expect(sent).toContain('call_prev_1');
    expect(sent).toContain('sunny-and-21C');
    expect(sent.split('Use the tools.').length - 1).toBe(1);
  });

  it('runs a function-tool round trip with the items resent', async () => {
    fake().enqueue({ kind: 'tool-call', id: 'call_items_1', name: 'get_weather', arguments: '{"city":"Oslo"}', promptTokens: 20, completionTokens: 9 });
    const first = await admin.responses.create({ model, input: 'Weather in Oslo?', tools: [weatherTool] });
    const call = first.output.find((item) => item.type === 'function_call');
    if (call?.type !== 'function_call') throw new Error('no function call');

    fake().enqueue({ kind: 'text', text: 'Snow in Oslo.', promptTokens: 40, completionTokens: 4 });
    const second = await admin.responses.create({
      model,
      input: [
        { role: 'user', content: [{ type: 'input_text', text: 'Weather in Oslo?' }] },
        { type: 'function_call', call_id: call.call_id, name: call.name, arguments: call.arguments },
        { type: 'function_call_output', call_id: call.call_id, output: 'snowing-minus-3C' },
      ],
      tools: [weatherTool],
    });
    expect(second.output_text).toBe('Snow in Oslo.');
    const sent = JSON.stringify(fake().received[1]?.body);
    expect(sent).toContain('call_items_1');
    expect(sent).toContain('snowing-minus-3C');
  });

  it('answers text.format json_schema with JSON that matches the schema', async () => {
    fake().enqueue({ kind: 'text', text: '{"city":"Rome","celsius":24}', promptTokens: 30, completionTokens: 10 });
    const response = await admin.responses.create({
      model,
      input: 'Weather in Rome as JSON',
      text: {
        format: {
          type: 'json_schema',
          name: 'weather',
          strict: true,
          schema: { type: 'object', properties: { city: { type: 'string' }, celsius: { type: 'number' } }, required: ['city', 'celsius'], additionalProperties: false },
        },
      },
    });
    expect(JSON.parse(response.output_text)).toEqual({ city: 'Rome', celsius: 24 });
    // The schema reached the provider in its own form (response_format for OpenAI, a forced tool for Anthropic).
    expect(JSON.stringify(fake().received[0]?.body)).toContain('celsius');
  });
});

describe('stored responses', () => {
  it('GET /v1/responses/{id} answers the key that made it (without READ) and admins, and 404 to another key', async () => {
    const mine = clientFor(await createKey('responses-owner'));
    const theirs = clientFor(await createKey('responses-other'));
    openaiFake.enqueue({ kind: 'text', text: 'Kept for later.', promptTokens: 10, completionTokens: 3 });
    const created = await mine.responses.create({ model: 'openai/gpt-4o-mini', input: 'Keep this' });

    const own = await mine.responses.retrieve(created.id);
    expect(own).toMatchObject({ id: created.id, status: 'completed', model: 'openai/gpt-4o-mini' });
    expect(own.output_text).toBe('Kept for later.');
    expect((await admin.responses.retrieve(created.id)).output_text).toBe('Kept for later.');

    await expect(theirs.responses.retrieve(created.id)).rejects.toBeInstanceOf(NotFoundError);
    // Nor can another key continue someone else's conversation.
    await expect(theirs.responses.create({ model: 'openai/gpt-4o-mini', previous_response_id: created.id, input: 'And?' })).rejects.toBeInstanceOf(NotFoundError);
  });

  it('retention deletes the stored content with its generation', async () => {
    openaiFake.enqueue({ kind: 'text', text: 'Soon forgotten.', promptTokens: 10, completionTokens: 3 });
    const created = await admin.responses.create({ model: 'openai/gpt-4o-mini', input: 'Forget this' });
    const generationId = created.id.replace(/^resp_/, 'gen_');
    const ledger = server.app.services.storage.ledger;
    expect((await ledger.findContent(generationId))?.answer.content).toBe('Soon forgotten.');

    const retention = new RetentionJob(ledger, { retentionDays: 1, now: () => Date.now() + 2 * 86_400_000 });
    expect(await retention.sweep()).toBeGreaterThan(0);
    expect(await ledger.findContent(generationId)).toBeUndefined();
    await expect(admin.responses.retrieve(created.id)).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('with SWITCHBOARD_STORE_CONTENT off', () => {
  let plain: TestServer;
  let client: OpenAI;
  beforeAll(async () => {
    plain = await startTestServer();
    client = new OpenAI({ apiKey: 'sk-anything', baseURL: `${plain.url}/v1`, maxRetries: 0 });
  });
  afterAll(async () => {
    await plain.stop();
  });

  it('still answers, and says the response is not stored', async () => {
    const response = await client.responses.create({ model: 'local/echo', input: 'echo me' });
    expect(response.output_text).toBe('echo me');
    expect(response).toMatchObject({ store: false });
  });

  it('answers previous_response_id and GET with a 400 that names the switch', async () => {
    const first = await client.responses.create({ model: 'local/echo', input: 'first' });
    const continued = client.responses.create({ model: 'local/echo', previous_response_id: first.id, input: 'second' });
    await expect(continued).rejects.toBeInstanceOf(BadRequestError);
    await expect(continued).rejects.toThrow(/SWITCHBOARD_STORE_CONTENT/);
    await expect(continued).rejects.toMatchObject({ param: 'previous_response_id' });

    const fetched = client.responses.retrieve(first.id);
    await expect(fetched).rejects.toBeInstanceOf(BadRequestError);
    await expect(fetched).rejects.toThrow(/SWITCHBOARD_STORE_CONTENT/);
  });

  it('maps reasoning.effort onto the request, so a provider that cannot honour it says so in x-switchboard-warnings', async () => {
    const { data, response } = await client.responses.create({ model: 'local/echo', input: 'think', reasoning: { effort: 'high' } }).withResponse();
    expect(data.output_text).toBe('think');
    expect(JSON.parse(response.headers.get('x-switchboard-warnings') ?? '[]')).toEqual([expect.stringContaining('reasoningEffort')]);
  });

  it('refuses what it cannot serve with OpenAI’s error body, naming the parameter', async () => {
    const hosted = client.responses.create({ model: 'local/echo', input: 'hi', tools: [{ type: 'web_search' }] });
    await expect(hosted).rejects.toMatchObject({ status: 400, param: 'tools[0].type' });
    const missing = client.responses.create({ model: 'nobody/nothing', input: 'hi' });
    await expect(missing).rejects.toMatchObject({ status: 404 });
    // An out-of-range value is named as the parameter the caller sent.
    await expect(client.responses.create({ model: 'local/echo', input: 'hi', temperature: 3 })).rejects.toMatchObject({ status: 400, param: 'temperature' });
  });
});

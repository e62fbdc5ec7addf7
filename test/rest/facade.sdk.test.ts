import { request } from 'node:http';
import OpenAI, { NotFoundError } from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { MAX_BODY_BYTES } from '../../src/rest/body.js';
import { generationIdOf, startRestFixture, type RestFixture } from './setup.js';

/**
 * The facade in open local mode (any bearer token passes, as SDKs insist on sending one), against one real server:
 * chat completions and models through the official SDK, then the raw wire.
 */
let fixture: RestFixture;
let client: OpenAI;
let statements = 0;

beforeAll(async () => {
  // The local provider pauses between streamed words, so a stream can be cut while it is running.
  fixture = await startRestFixture({ SWITCHBOARD_LOCAL_DELAY_MS: '30' }, { onStatement: () => statements++ });
  client = fixture.client();
});
afterAll(async () => {
  await fixture.stop();
});

type Chunk = OpenAI.Chat.Completions.ChatCompletionChunk;
/** Our usage carries the cost beside OpenAI's fields. */
type UsageWithCost = OpenAI.Completions.CompletionUsage & { cost_usd?: number | null };

const weatherTool: OpenAI.Chat.Completions.ChatCompletionTool = {
  type: 'function',
  function: { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
};

describe('POST /v1/chat/completions through the official openai SDK', () => {
  beforeEach(() => {
    fixture.fake.received.length = 0;
  });

  it('answers a non-streaming request with OpenAI’s body, our headers, and a SUCCEEDED ledger row', async () => {
    fixture.fake.enqueue({ kind: 'text', text: 'Hello from upstream.', promptTokens: 1000, completionTokens: 200, cachedPromptTokens: 400 });
    const { data: completion, response } = await client.chat.completions
      .create({
        model: 'openai/gpt-4o-mini',
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'Hi' },
        ],
        max_completion_tokens: 32,
        temperature: 0.3,
        top_p: 0.8,
        stop: ['END'],
        seed: 42,
        user: 'user-7',
      })
      .withResponse();

    expect(completion.object).toBe('chat.completion');
    expect(completion.model).toBe('openai/gpt-4o-mini');
    expect(completion.choices).toHaveLength(1);
    expect(completion.choices[0]).toMatchObject({ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'Hello from upstream.' } });
    expect(completion.usage).toMatchObject({
      prompt_tokens: 1000,
      completion_tokens: 200,
      total_tokens: 1200,
      prompt_tokens_details: { cached_tokens: 400 },
      completion_tokens_details: { reasoning_tokens: 0 },
    });
    expect(Math.abs(completion.created - Date.now() / 1000)).toBeLessThan(5);

    const generationId = generationIdOf(completion.id);
    expect(response.headers.get('x-switchboard-generation-id')).toBe(generationId);
    expect(response.headers.get('x-switchboard-provider')).toBe('openai');
    expect(response.headers.get('x-switchboard-model')).toBe('openai/gpt-4o-mini');
    expect(response.headers.get('x-request-id')).toMatch(/^req_/);
    const cost = (completion.usage as UsageWithCost).cost_usd;
    expect(cost).toBeGreaterThan(0);
    expect(Number(response.headers.get('x-switchboard-cost-usd'))).toBeCloseTo(cost ?? Number.NaN, 12);

    // The upstream got the OpenAI request as the adapter maps it, from the service's normalized input.
    expect(fixture.fake.received[0]?.body).toMatchObject({
      model: 'gpt-4o-mini',
      max_completion_tokens: 32,
      temperature: 0.3,
      top_p: 0.8,
      stop: ['END'],
      seed: 42,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
      ],
    });
    expect(await fixture.generation(generationId)).toEqual({ status: 'SUCCEEDED', streamed: false, finishReason: 'STOP', provider: { id: 'openai' } });
  });

  it('streams chunks the SDK reads, with usage and cost in the final chunk when asked', async () => {
    fixture.fake.enqueue({ kind: 'text', text: 'One two three four five', promptTokens: 9, completionTokens: 5 });
    const { data: stream, response } = await client.chat.completions
      .create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'Count' }], stream: true, stream_options: { include_usage: true } })
      .withResponse();
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const generationId = response.headers.get('x-switchboard-generation-id');
    expect(generationId).toMatch(/^gen_/);
    expect(response.headers.get('x-switchboard-provider')).toBe('openai');

    const chunks: Chunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);

    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: 'assistant', content: '' });
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe('One two three four five');
    expect(chunks.filter((chunk) => (chunk.choices[0]?.delta.content ?? '') !== '').length).toBeGreaterThan(1);
    expect(new Set(chunks.map((chunk) => chunk.id))).toEqual(new Set([`chatcmpl-${generationId}`]));
    expect(chunks.every((chunk) => chunk.object === 'chat.completion.chunk' && chunk.model === 'openai/gpt-4o-mini')).toBe(true);

    const finish = chunks.find((chunk) => chunk.choices[0]?.finish_reason);
    expect(finish?.choices[0]).toMatchObject({ finish_reason: 'stop', delta: {} });
    const last = chunks.at(-1);
    expect(last?.choices).toEqual([]);
    expect(last?.usage).toMatchObject({ prompt_tokens: 9, completion_tokens: 5, total_tokens: 14 });
    expect((last?.usage as UsageWithCost | undefined)?.cost_usd).toBeGreaterThan(0);
    expect(chunks.slice(0, -1).every((chunk) => chunk.usage === null)).toBe(true);

    expect(fixture.fake.received[0]?.body).toMatchObject({ stream: true });
    expect(await fixture.generation(generationId ?? '')).toMatchObject({ status: 'SUCCEEDED', streamed: true });
  });

  it('sends no usage in a stream that did not ask for it', async () => {
    const stream = await client.chat.completions.create({ model: 'local/echo', messages: [{ role: 'user', content: 'no usage please' }], stream: true });
    const chunks: Chunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe('no usage please');
    expect(chunks.every((chunk) => chunk.usage === undefined && chunk.choices.length === 1)).toBe(true);
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
  });

  it('returns a tool call, having sent the tools and tool_choice upstream', async () => {
    fixture.fake.enqueue({ kind: 'tool-call', id: 'call_7Qe', name: 'get_weather', arguments: '{"city":"Paris"}', promptTokens: 61, completionTokens: 17 });
    const completion = await client.chat.completions.create({
      model: 'openai/gpt-4o-mini',
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      tools: [weatherTool],
      tool_choice: 'required',
    });
    const choice = completion.choices[0];
    expect(choice?.finish_reason).toBe('tool_calls');
    expect(choice?.message.content).toBeNull();
    expect(choice?.message.tool_calls).toEqual([{ id: 'call_7Qe', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }]);
    expect(fixture.fake.received[0]?.body).toMatchObject({
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', required: ['city'] } } }],
      tool_choice: 'required',
    });
  });

  it('streams a tool call in fragments that the SDK’s stream helper assembles', async () => {
    fixture.fake.enqueue({ kind: 'tool-call', id: 'call_9', name: 'get_weather', arguments: '{"city":"Rome","unit":"celsius"}', promptTokens: 40, completionTokens: 12 });
    const runner = client.chat.completions.stream({
      model: 'openai/gpt-4o-mini',
      messages: [{ role: 'user', content: 'Weather in Rome?' }],
      tools: [weatherTool],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
    });
    const chunks: Chunk[] = [];
    runner.on('chunk', (chunk) => chunks.push(chunk));
    const final = await runner.finalChatCompletion();
    const call = final.choices[0]?.message.tool_calls?.[0];
    expect(call?.id).toBe('call_9');
    expect(call?.type === 'function' && call.function.name).toBe('get_weather');
    expect(call?.type === 'function' && JSON.parse(call.function.arguments)).toEqual({ city: 'Rome', unit: 'celsius' });
    expect(final.choices[0]?.finish_reason).toBe('tool_calls');
    // The head names the call; later fragments carry only arguments.
    const toolDeltas = chunks.flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? []);
    expect(toolDeltas[0]).toMatchObject({ index: 0, id: 'call_9', type: 'function', function: { name: 'get_weather' } });
    expect(toolDeltas.length).toBeGreaterThan(1);
    expect(toolDeltas.slice(1).every((delta) => delta.id === undefined && delta.function?.name === undefined)).toBe(true);
    expect(fixture.fake.received[0]?.body).toMatchObject({ tool_choice: { type: 'function', function: { name: 'get_weather' } } });
  });

  it('sends a tool result turn upstream in OpenAI’s shape', async () => {
    fixture.fake.enqueue({ kind: 'text', text: 'It is sunny in Paris.', promptTokens: 80, completionTokens: 6 });
    const completion = await client.chat.completions.create({
      model: 'openai/gpt-4o-mini',
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_7Qe', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
        { role: 'tool', tool_call_id: 'call_7Qe', content: '{"sky":"sunny"}' },
      ],
      tools: [weatherTool],
    });
    expect(completion.choices[0]?.message.content).toBe('It is sunny in Paris.');
    expect(fixture.fake.received[0]?.body).toMatchObject({
      messages: [
        { role: 'user' },
        { role: 'assistant', tool_calls: [{ id: 'call_7Qe', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
        { role: 'tool', tool_call_id: 'call_7Qe', content: '{"sky":"sunny"}' },
      ],
    });
  });

  it('passes JSON mode and JSON schema response formats upstream', async () => {
    fixture.fake.enqueue({ kind: 'text', text: '{"answer":42}', promptTokens: 20, completionTokens: 5 });
    const jsonMode = await client.chat.completions.create({
      model: 'openai/gpt-4o-mini',
      messages: [{ role: 'user', content: 'Answer in JSON' }],
      response_format: { type: 'json_object' },
    });
    expect(JSON.parse(jsonMode.choices[0]?.message.content ?? '')).toEqual({ answer: 42 });
    expect(fixture.fake.received[0]?.body).toMatchObject({ response_format: { type: 'json_object' } });

    fixture.fake.enqueue({ kind: 'text', text: '{"answer":42}', promptTokens: 20, completionTokens: 5 });
    const schema = { type: 'object', properties: { answer: { type: 'number' } }, required: ['answer'], additionalProperties: false };
    await client.chat.completions.create({
      model: 'openai/gpt-4o-mini',
      messages: [{ role: 'user', content: 'Answer in JSON' }],
      response_format: { type: 'json_schema', json_schema: { name: 'answer', schema, strict: true } },
    });
    expect(fixture.fake.received[1]?.body).toMatchObject({ response_format: { type: 'json_schema', json_schema: { name: 'answer', schema, strict: true } } });
  });

  it('sends image parts upstream', async () => {
    const image = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
    await client.chat.completions.create({
      model: 'openai/gpt-4o-mini',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: image, detail: 'low' } }] }],
    });
    expect(fixture.fake.received[0]?.body).toMatchObject({
      messages: [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: image, detail: 'low' } }] }],
    });
  });

  it('falls back along the `models` list and says which provider and model served', async () => {
    fixture.fake.enqueue({ kind: 'error', error: 'server_error' });
    const body = {
      model: 'openai/gpt-4o-mini',
      models: ['local/echo'],
      provider: { order: ['openai'] },
      messages: [{ role: 'user' as const, content: 'fallback works' }],
    };
    const { data: completion, response } = await client.chat.completions.create(body).withResponse();
    expect(completion.choices[0]?.message.content).toBe('fallback works');
    expect(completion.model).toBe('local/echo');
    expect(response.headers.get('x-switchboard-provider')).toBe('local');
    expect(response.headers.get('x-switchboard-model')).toBe('local/echo');
    expect(response.headers.get('x-switchboard-cost-usd')).toBe('0');
    expect(fixture.fake.received).toHaveLength(1);
  });

  it('cancels the upstream call and records CANCELLED when the SDK aborts a stream', async () => {
    fixture.fake.enqueue({ kind: 'hang', textBefore: 'a partial answer' });
    const controller = new AbortController();
    const { data: stream, response } = await client.chat.completions
      .create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'Tell me a long story' }], stream: true }, { signal: controller.signal })
      .withResponse();
    const generationId = response.headers.get('x-switchboard-generation-id') ?? '';
    let text = '';
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (text === 'a partial answer') controller.abort();
    }
    expect(text).toBe('a partial answer');
    await vi.waitFor(() => expect(fixture.fake.activeResponses()).toBe(0), { timeout: 5000, interval: 20 });
    await vi.waitFor(async () => expect(await fixture.generation(generationId)).toMatchObject({ status: 'CANCELLED', streamed: true, finishReason: 'CANCELLED' }), {
      timeout: 5000,
      interval: 20,
    });
  });

  it('stops a running stream and records CANCELLED when the SDK aborts between words', async () => {
    const words = Array.from({ length: 200 }, (_, index) => `word${index}`).join(' ');
    const controller = new AbortController();
    const { data: stream, response } = await client.chat.completions
      .create({ model: 'local/echo', messages: [{ role: 'user', content: words }], stream: true }, { signal: controller.signal })
      .withResponse();
    const generationId = response.headers.get('x-switchboard-generation-id') ?? '';
    const started = Date.now();
    let received = 0;
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content) received++;
      if (received === 2) controller.abort();
    }
    expect(received).toBe(2);
    await vi.waitFor(async () => expect(await fixture.generation(generationId)).toMatchObject({ status: 'CANCELLED', streamed: true }), { timeout: 5000, interval: 20 });
    // Far sooner than the 6 s the whole answer would take: the stream stopped instead of running on unread.
    expect(Date.now() - started).toBeLessThan(3000);
    expect(fixture.server.app.services.completions.activeCount).toBe(0);
  });

  it('cancels the upstream call when the SDK aborts a non-streaming request', async () => {
    fixture.fake.enqueue({ kind: 'hang', textBefore: '' });
    const controller = new AbortController();
    const pending = client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'Wait for it' }] }, { signal: controller.signal });
    await vi.waitFor(() => expect(fixture.fake.activeResponses()).toBe(1), { timeout: 5000, interval: 10 });
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(OpenAI.APIUserAbortError);
    await vi.waitFor(() => expect(fixture.fake.activeResponses()).toBe(0), { timeout: 5000, interval: 20 });
    await vi.waitFor(async () => {
      const latest = await fixture.server.graphql<{ generations: { edges: Array<{ node: { status: string; streamed: boolean } }> } }>(
        '{ generations(first: 1) { edges { node { status streamed } } } }',
      );
      expect(latest.data?.generations.edges[0]?.node).toEqual({ status: 'CANCELLED', streamed: false });
    });
  });
});

/** The fields we add to OpenAI's model object. */
interface CatalogModel extends OpenAI.Models.Model {
  name: string;
  aliases: string[];
  context_length: number;
  pricing: { prompt_per_million: number; completion_per_million: number } | null;
  available: boolean;
  endpoints: Array<{ provider: string; provider_model_id: string; enabled: boolean }>;
}

describe('GET /v1/models through the official openai SDK', () => {
  it('lists the catalog in OpenAI’s list shape, in a bounded number of statements', async () => {
    const before = statements;
    const models: OpenAI.Models.Model[] = [];
    for await (const model of client.models.list()) models.push(model);
    // The listing must not issue a query per model.
    expect(statements - before).toBeGreaterThan(0);
    expect(statements - before).toBeLessThanOrEqual(5);
    // What this gateway can serve (OpenAI's and the local models), not the whole catalog: see key-scope.sdk.test.ts.
    expect(models.length).toBeGreaterThan(10);
    expect(models.every((model) => (model as CatalogModel).available)).toBe(true);
    expect(models.every((model) => model.object === 'model' && typeof model.created === 'number' && typeof model.owned_by === 'string')).toBe(true);
    const ids = models.map((model) => model.id);
    expect(ids).toEqual([...ids].sort());
    const echo = models.find((model) => model.id === 'local/echo') as CatalogModel | undefined;
    expect(echo).toMatchObject({ owned_by: 'local', available: true, endpoints: [{ provider: 'local', provider_model_id: 'echo', enabled: true }] });
    const gpt = models.find((model) => model.id === 'openai/gpt-4o-mini') as CatalogModel | undefined;
    expect(gpt?.available).toBe(true);
    expect(gpt?.pricing?.prompt_per_million).toBeGreaterThan(0);
    expect(gpt?.endpoints.find((endpoint) => endpoint.provider === 'openrouter')?.enabled).toBe(false);
  });

  it('retrieves one model by canonical id (its slash encoded by the SDK) or by alias', async () => {
    const byId = (await client.models.retrieve('openai/gpt-4o')) as CatalogModel;
    expect(byId).toMatchObject({ id: 'openai/gpt-4o', object: 'model', owned_by: 'openai' });
    expect(byId.aliases).toContain('gpt-4o');
    const byAlias = await client.models.retrieve('gpt-4o');
    expect(byAlias.id).toBe('openai/gpt-4o');
    const raw = await fetch(`${fixture.server.url}/v1/models/openai/gpt-4o`);
    expect(((await raw.json()) as { id: string }).id).toBe('openai/gpt-4o');
  });

  it('answers an unknown model with NotFoundError', async () => {
    await expect(client.models.retrieve('nobody/nothing')).rejects.toBeInstanceOf(NotFoundError);
  });
});

/** Posts raw bytes with Node's own client, so tests control framing (content-length or chunked) exactly. */
function rawPost(url: string, chunks: Buffer[], headers: Record<string, string | number> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (piece: string) => (body += piece));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    // The server may answer and close before it has read everything; what it said is what matters.
    req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' || error.code === 'ECONNRESET' ? undefined : reject(error)));
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

function sseEvents(body: string): string[] {
  expect(body.endsWith('\n\n')).toBe(true);
  return body
    .slice(0, -2)
    .split('\n\n')
    .map((event) => {
      expect(event.startsWith('data: ')).toBe(true);
      return event.slice('data: '.length);
    });
}

describe('the REST facade on the wire', () => {
  let chatUrl: string;

  beforeAll(() => {
    chatUrl = `${fixture.server.url}/v1/chat/completions`;
  });

  it('streams OpenAI’s exact chunk sequence: role, content, finish, usage, [DONE]', async () => {
    const response = await fetch(chatUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'trace-123' },
      body: JSON.stringify({ model: 'local/echo', messages: [{ role: 'user', content: 'two words' }], stream: true, stream_options: { include_usage: true } }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBe('trace-123');
    expect(response.headers.get('cache-control')).toBe('no-cache');
    const generationId = response.headers.get('x-switchboard-generation-id') ?? '';
    const events = sseEvents(await response.text());
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((event) => JSON.parse(event) as Record<string, unknown>);
    const envelope = { id: `chatcmpl-${generationId}`, object: 'chat.completion.chunk', created: chunks[0]?.['created'], model: 'local/echo' };
    expect(typeof envelope.created).toBe('number');
    expect(chunks).toEqual([
      { ...envelope, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }], usage: null },
      { ...envelope, choices: [{ index: 0, delta: { content: 'two ' }, logprobs: null, finish_reason: null }], usage: null },
      { ...envelope, choices: [{ index: 0, delta: { content: 'words' }, logprobs: null, finish_reason: null }], usage: null },
      { ...envelope, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }], usage: null },
      {
        ...envelope,
        choices: [],
        usage: {
          prompt_tokens: expect.any(Number),
          completion_tokens: 2,
          total_tokens: expect.any(Number),
          prompt_tokens_details: { cached_tokens: 0 },
          completion_tokens_details: { reasoning_tokens: 0 },
          cost_usd: 0,
        },
      },
    ]);
  });

  it('reports the length finish reason when max_tokens cuts the answer', async () => {
    const response = await fetch(chatUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'local/echo', messages: [{ role: 'user', content: 'one two three four five six' }], max_tokens: 2 }),
    });
    const body = (await response.json()) as { choices: Array<{ finish_reason: string; message: { content: string } }>; usage: { completion_tokens: number } };
    expect(body.choices[0]?.finish_reason).toBe('length');
    expect(body.usage.completion_tokens).toBe(2);
  });

  it('answers a body that is not JSON with 400 in OpenAI’s error shape', async () => {
    const response = await rawPost(chatUrl, [Buffer.from('{"model": "local/echo", ')]);
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body)).toEqual({ error: { message: expect.stringContaining('JSON'), type: 'invalid_request_error', code: 'bad_request', param: null } });
    const empty = await rawPost(chatUrl, []);
    expect(empty.status).toBe(400);
  });

  it('refuses an oversized body with 413, by its content-length or by counting a chunked one', async () => {
    const declared = await rawPost(chatUrl, [Buffer.from('{}')], { 'content-length': MAX_BODY_BYTES + 1 });
    expect(declared.status).toBe(413);
    expect(JSON.parse(declared.body)).toMatchObject({ error: { type: 'invalid_request_error', code: 'request_too_large' } });

    const megabyte = Buffer.alloc(1024 * 1024, 'a');
    const chunked = await rawPost(chatUrl, Array.from({ length: 11 }, () => megabyte), { 'transfer-encoding': 'chunked' });
    expect(chunked.status).toBe(413);
    expect(JSON.parse(chunked.body)).toMatchObject({ error: { code: 'request_too_large' } });
  });

  it('takes a body of several megabytes of base64 image below the limit', async () => {
    const image = `data:image/png;base64,${Buffer.alloc(3 * 1024 * 1024, 7).toString('base64')}`;
    const body = JSON.stringify({
      model: 'local/echo',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'look' }, { type: 'image_url', image_url: { url: image } }] }],
    });
    expect(Buffer.byteLength(body)).toBeGreaterThan(4 * 1024 * 1024);
    const response = await rawPost(chatUrl, [Buffer.from(body)]);
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({ choices: [{ message: { content: 'look' } }] });
  });

  it('answers unknown routes with 404 and wrong methods with 405, in OpenAI’s error shape', async () => {
    const unknown = await fetch(`${fixture.server.url}/v1/audio/speech`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { type: 'invalid_request_error', code: 'not_found' } });
    const wrongMethod = await fetch(chatUrl);
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
    expect(await wrongMethod.json()).toMatchObject({ error: { code: 'method_not_allowed' } });
  });
});

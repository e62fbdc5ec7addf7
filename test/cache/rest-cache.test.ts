import type OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock, type Clock } from '../../src/clock.js';
import { generationIdOf, startRestFixture, type RestFixture } from '../rest/setup.js';

const ADMIN = 'sk-admin-cache-rest-test';
const MODEL = 'openai/gpt-4o-mini';

/** The real clock, moved forward on demand: the cache reads expiry from the injected clock, nothing else is disturbed. */
let offsetMs = 0;
const clock: Clock = {
  now: () => Date.now() + offsetMs,
  setTimeout: (callback, ms) => systemClock.setTimeout(callback, ms),
  sleep: (ms, signal) => systemClock.sleep(ms, signal),
};

let fixture: RestFixture;
let unique = 0;
/** A prompt no other test sends, so tests do not hit each other's entries. */
const prompt = (): string => `cache test prompt ${++unique} ${Math.random().toString(36).slice(2)}`;

beforeAll(async () => {
  fixture = await startRestFixture({ SWITCHBOARD_ADMIN_KEY: ADMIN }, { clock });
});
afterAll(async () => {
  await fixture.stop();
});

function upstreamCalls(target: RestFixture = fixture): number {
  return target.fake.received.filter((request) => request.path.endsWith('/chat/completions')).length;
}

type ChatBody = OpenAI.Chat.ChatCompletionCreateParamsNonStreaming;

async function chat(body: ChatBody, headers: Record<string, string> = {}, apiKey = ADMIN, target: RestFixture = fixture) {
  const { data, response } = await target.client(apiKey).chat.completions.create(body, { headers }).withResponse();
  return { data, cache: response.headers.get('x-switchboard-cache'), generationId: generationIdOf(data.id) };
}

interface StreamedChunk {
  content: string | null | undefined;
  toolCalls: unknown;
  finishReason: string | null | undefined;
}

async function chatStream(body: Omit<ChatBody, 'stream'>, headers: Record<string, string> = {}, apiKey = ADMIN) {
  const { data: stream, response } = await fixture
    .client(apiKey)
    .chat.completions.create({ ...body, stream: true, stream_options: { include_usage: true } }, { headers })
    .withResponse();
  const chunks: StreamedChunk[] = [];
  let usage: OpenAI.CompletionUsage | null | undefined;
  let id = '';
  for await (const chunk of stream) {
    id = chunk.id;
    if (chunk.usage) usage = chunk.usage;
    const choice = chunk.choices[0];
    if (choice) chunks.push({ content: choice.delta.content, toolCalls: choice.delta.tool_calls, finishReason: choice.finish_reason });
  }
  return { chunks, usage, cache: response.headers.get('x-switchboard-cache'), generationId: generationIdOf(id) };
}

interface LedgerRow {
  status: string;
  cacheHit: boolean;
  savedUsd: number | null;
  streamed: boolean;
  usage: { costUsd: number | null; promptTokens: number; completionTokens: number };
}

async function ledger(id: string, target: RestFixture = fixture): Promise<LedgerRow> {
  const body = await target.server.graphql<{ generation: LedgerRow | null }>(
    'query ($id: ID!) { generation(id: $id) { status cacheHit savedUsd streamed usage { costUsd promptTokens completionTokens } } }',
    { id },
    { authorization: `Bearer ${ADMIN}` },
  );
  if (!body.data?.generation) throw new Error(JSON.stringify(body.errors));
  return body.data.generation;
}

async function createKey(input: Record<string, unknown>, target: RestFixture = fixture): Promise<string> {
  const body = await target.server.graphql<{ createApiKey: { secret: string } }>(
    'mutation ($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }',
    { input: { name: `cache-${++unique}`, scopes: ['COMPLETIONS'], ...input } },
    { authorization: `Bearer ${ADMIN}` },
  );
  if (!body.data) throw new Error(JSON.stringify(body.errors));
  return body.data.createApiKey.secret;
}

const TTL = { 'x-switchboard-cache-ttl': '60' };

describe('the response cache over REST chat completions', () => {
  it('answers the second identical opted-in request without the upstream, as a free cacheHit generation that records its saving', async () => {
    const body: ChatBody = { model: MODEL, messages: [{ role: 'user', content: prompt() }] };
    const before = upstreamCalls();
    const first = await chat(body, TTL);
    const second = await chat(body, TTL);
    expect(upstreamCalls() - before).toBe(1);
    expect([first.cache, second.cache]).toEqual(['MISS', 'HIT']);
    expect(second.data.choices[0]?.message.content).toBe(first.data.choices[0]?.message.content);
    expect(second.data.choices[0]?.finish_reason).toBe(first.data.choices[0]?.finish_reason);
    // The same tokens; what this answer cost is nothing.
    expect(second.data.usage).toEqual({ ...first.data.usage, cost_usd: 0 });
    expect(first.data.usage).toHaveProperty('cost_usd', expect.any(Number));
    expect(second.generationId).not.toBe(first.generationId);

    const original = await ledger(first.generationId);
    const hit = await ledger(second.generationId);
    expect(original).toMatchObject({ status: 'SUCCEEDED', cacheHit: false, savedUsd: null });
    expect(original.usage.costUsd).toBeGreaterThan(0);
    expect(hit).toMatchObject({ status: 'SUCCEEDED', cacheHit: true, savedUsd: original.usage.costUsd, usage: { costUsd: 0, promptTokens: original.usage.promptTokens } });
  });

  it('replays a streamed answer as the same events, tool calls and finish reason included, without the upstream', async () => {
    const body = { model: MODEL, messages: [{ role: 'user' as const, content: prompt() }], tools: [{ type: 'function' as const, function: { name: 'lookup', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }] };
    fixture.fake.enqueue({ kind: 'tool-call', id: 'call_1', name: 'lookup', arguments: '{"city":"Paris, the capital"}', promptTokens: 30, completionTokens: 12 });
    const before = upstreamCalls();
    const first = await chatStream(body, TTL);
    const second = await chatStream(body, TTL);
    expect(upstreamCalls() - before).toBe(1);
    expect([first.cache, second.cache]).toEqual(['MISS', 'HIT']);
    expect(first.chunks.some((chunk) => chunk.toolCalls !== undefined)).toBe(true);
    expect(first.chunks.at(-1)?.finishReason).toBe('tool_calls');
    expect(second.chunks).toEqual(first.chunks);
    expect(second.usage?.prompt_tokens).toBe(30);
    expect(second.usage?.completion_tokens).toBe(12);
    expect(await ledger(second.generationId)).toMatchObject({ cacheHit: true, streamed: true, usage: { costUsd: 0 } });

    // The same request not streamed is the same entry: its answer is assembled from the stored deltas.
    const whole = await chat(body, TTL);
    expect(whole.cache).toBe('HIT');
    expect(upstreamCalls() - before).toBe(1);
    expect(whole.data.choices[0]?.message.tool_calls?.[0]).toMatchObject({ id: 'call_1', function: { name: 'lookup', arguments: '{"city":"Paris, the capital"}' } });
  });

  it('streams a hit of an answer that was stored unstreamed: its text whole, the same finish reason', async () => {
    const body = { model: MODEL, messages: [{ role: 'user' as const, content: prompt() }] };
    const before = upstreamCalls();
    const first = await chat(body, TTL);
    const streamed = await chatStream(body, TTL);
    expect(upstreamCalls() - before).toBe(1);
    expect(streamed.cache).toBe('HIT');
    expect(streamed.chunks.map((chunk) => chunk.content ?? '').join('')).toBe(first.data.choices[0]?.message.content);
    expect(streamed.chunks.at(-1)?.finishReason).toBe(first.data.choices[0]?.finish_reason);
  });

  it('leaves requests that did not opt in alone: no lookup, no header, the upstream every time', async () => {
    const body: ChatBody = { model: MODEL, messages: [{ role: 'user', content: prompt() }] };
    const before = upstreamCalls();
    const first = await chat(body);
    const second = await chat(body);
    expect(upstreamCalls() - before).toBe(2);
    expect([first.cache, second.cache]).toEqual([null, null]);
    // Opting in later finds nothing: unopted answers were never stored.
    expect((await chat(body, TTL)).cache).toBe('MISS');
  });

  it('misses when a parameter, a message or the model changes', async () => {
    const text = prompt();
    const base: ChatBody = { model: MODEL, messages: [{ role: 'user', content: text }], temperature: 0.2 };
    const before = upstreamCalls();
    expect((await chat(base, TTL)).cache).toBe('MISS');
    expect((await chat({ ...base, temperature: 0.3 }, TTL)).cache).toBe('MISS');
    expect((await chat({ ...base, max_tokens: 50 }, TTL)).cache).toBe('MISS');
    expect((await chat({ ...base, messages: [{ role: 'user', content: `${text}!` }] }, TTL)).cache).toBe('MISS');
    expect((await chat({ ...base, model: 'openai/gpt-4o' }, TTL)).cache).toBe('MISS');
    expect((await chat({ ...base, response_format: { type: 'json_object' } }, TTL)).cache).toBe('MISS');
    expect(upstreamCalls() - before).toBe(6);
    // Metadata is the caller's bookkeeping, not part of the question.
    expect((await chat({ ...base, metadata: { run: 'second' } }, TTL)).cache).toBe('HIT');
    expect(upstreamCalls() - before).toBe(6);
  });

  it('expires an entry after its TTL by the injected clock, and not before', async () => {
    const body: ChatBody = { model: MODEL, messages: [{ role: 'user', content: prompt() }] };
    const before = upstreamCalls();
    expect((await chat(body, TTL)).cache).toBe('MISS');
    offsetMs += 59_000;
    expect((await chat(body, TTL)).cache).toBe('HIT');
    offsetMs += 1_001;
    expect((await chat(body, TTL)).cache).toBe('MISS');
    expect(upstreamCalls() - before).toBe(2);
  });

  it('skips the lookup for Cache-Control: no-cache and stores the fresh answer in place of the old one', async () => {
    const body: ChatBody = { model: MODEL, messages: [{ role: 'user', content: prompt() }] };
    fixture.fake.enqueue({ kind: 'text', text: 'old answer', promptTokens: 5, completionTokens: 2 });
    fixture.fake.enqueue({ kind: 'text', text: 'fresh answer', promptTokens: 5, completionTokens: 2 });
    const before = upstreamCalls();
    expect((await chat(body, TTL)).cache).toBe('MISS');
    const bypassed = await chat(body, { ...TTL, 'cache-control': 'max-age=0, no-cache' });
    expect(bypassed.cache).toBe('BYPASS');
    expect(bypassed.data.choices[0]?.message.content).toBe('fresh answer');
    const hit = await chat(body, TTL);
    expect(hit.cache).toBe('HIT');
    expect(hit.data.choices[0]?.message.content).toBe('fresh answer');
    expect(upstreamCalls() - before).toBe(2);
  });

  it('scopes entries to the key that stored them by default', async () => {
    const [first, second] = [await createKey({}), await createKey({})];
    const body: ChatBody = { model: MODEL, messages: [{ role: 'user', content: prompt() }] };
    const before = upstreamCalls();
    expect((await chat(body, TTL, first)).cache).toBe('MISS');
    expect((await chat(body, TTL, second)).cache).toBe('MISS');
    expect((await chat(body, TTL, ADMIN)).cache).toBe('MISS');
    expect((await chat(body, TTL, first)).cache).toBe('HIT');
    expect(upstreamCalls() - before).toBe(3);
  });

  it("opts a key's requests in by its default TTL, which a request's TTL of 0 turns off", async () => {
    const key = await createKey({ cacheTtlSeconds: 120 });
    const body: ChatBody = { model: MODEL, messages: [{ role: 'user', content: prompt() }] };
    const before = upstreamCalls();
    expect((await chat(body, {}, key)).cache).toBe('MISS');
    expect((await chat(body, {}, key)).cache).toBe('HIT');
    expect((await chat(body, { 'x-switchboard-cache-ttl': '0' }, key)).cache).toBe(null);
    expect(upstreamCalls() - before).toBe(2);
  });

  it('counts a hit against the rate limit as a request', async () => {
    const key = await createKey({ rateLimit: { requestsPerMinute: 1 } });
    const body: ChatBody = { model: MODEL, messages: [{ role: 'user', content: prompt() }] };
    expect((await chat(body, TTL, key)).cache).toBe('MISS');
    await expect(chat(body, TTL, key)).rejects.toMatchObject({ status: 429 });
  });

  it('refuses a TTL header that is not a whole number of seconds in range', async () => {
    const body: ChatBody = { model: MODEL, messages: [{ role: 'user', content: prompt() }] };
    for (const ttl of ['-1', '1.5', 'soon', '2592001']) {
      await expect(chat(body, { 'x-switchboard-cache-ttl': ttl })).rejects.toMatchObject({ status: 400, param: 'x-switchboard-cache-ttl' });
    }
  });

  it('serves the Responses API from the cache too', async () => {
    const before = upstreamCalls();
    const send = async (): Promise<{ cache: string | null; text: string; costHeader: string | null }> => {
      const response = await fetch(`${fixture.server.url}/v1/responses`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json', ...TTL },
        body: JSON.stringify({ model: MODEL, input: 'responses cache question', store: false }),
      });
      expect(response.status).toBe(200);
      const body = (await response.json()) as { output: Array<{ content?: Array<{ text: string }> }> };
      return { cache: response.headers.get('x-switchboard-cache'), text: body.output[0]?.content?.[0]?.text ?? '', costHeader: response.headers.get('x-switchboard-cost-usd') };
    };
    const first = await send();
    const second = await send();
    expect([first.cache, second.cache]).toEqual(['MISS', 'HIT']);
    expect(first.text).not.toBe('');
    expect(second.text).toBe(first.text);
    expect(Number(second.costHeader)).toBe(0);

    const streamed = await fetch(`${fixture.server.url}/v1/responses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json', ...TTL },
      body: JSON.stringify({ model: MODEL, input: 'responses cache question', store: false, stream: true }),
    });
    expect(streamed.headers.get('x-switchboard-cache')).toBe('HIT');
    const text = (await streamed.text())
      .split('\n')
      .filter((line) => line.startsWith('data: '))
      .map((line) => JSON.parse(line.slice('data: '.length)) as { type: string; delta?: string })
      .filter((event) => event.type === 'response.output_text.delta')
      .map((event) => event.delta)
      .join('');
    expect(text).toBe(first.text);
    expect(upstreamCalls() - before).toBe(1);
  });

  it('exports hits, misses, bypasses, bytes stored and dollars saved', async () => {
    const response = await fetch(`${fixture.server.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } });
    const text = await response.text();
    const value = (name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
    expect(value('switchboard_cache_hits_total')).toBeGreaterThanOrEqual(8);
    expect(value('switchboard_cache_misses_total')).toBeGreaterThanOrEqual(10);
    expect(value('switchboard_cache_bypasses_total')).toBe(1);
    expect(value('switchboard_cache_bytes')).toBeGreaterThan(0);
    expect(value('switchboard_cache_entries')).toBeGreaterThan(0);
    expect(value('switchboard_cache_saved_usd_total')).toBeGreaterThan(0);
    expect(value('switchboard_cache_evictions_total')).toBe(0);
  });
});

describe('the response cache with a global scope and a size bound', () => {
  let global: RestFixture;
  beforeAll(async () => {
    global = await startRestFixture({ SWITCHBOARD_ADMIN_KEY: ADMIN, SWITCHBOARD_CACHE_SCOPE: 'global', SWITCHBOARD_CACHE_MAX_ENTRIES: '3' });
  });
  afterAll(async () => {
    await global.stop();
  });

  it("lets another key hit an entry, and a budgeted key hit one its budget could not have paid for", async () => {
    const other = await createKey({}, global);
    const body: ChatBody = { model: MODEL, messages: [{ role: 'user', content: prompt() }] };
    const before = upstreamCalls(global);
    expect((await chat(body, TTL, ADMIN, global)).cache).toBe('MISS');
    expect((await chat(body, TTL, other, global)).cache).toBe('HIT');
    expect(upstreamCalls(global) - before).toBe(1);

    // A model with no known price is refused to a key with a budget, unless the cache answers: a hit spends nothing.
    const unpriced: ChatBody = { model: 'openai/gpt-unlisted-cache', messages: [{ role: 'user', content: prompt() }] };
    expect((await chat(unpriced, TTL, ADMIN, global)).cache).toBe('MISS');
    const budgeted = await createKey({ budget: { limitUsd: 1 } }, global);
    expect((await chat(unpriced, TTL, budgeted, global)).cache).toBe('HIT');
    await expect(chat(unpriced, { ...TTL, 'cache-control': 'no-cache' }, budgeted, global)).rejects.toMatchObject({ status: 403 });
  });

  it('evicts the oldest entries past the bound', async () => {
    const bodies: ChatBody[] = Array.from({ length: 4 }, () => ({ model: MODEL, messages: [{ role: 'user', content: prompt() }] }));
    for (const body of bodies) expect((await chat(body, TTL, ADMIN, global)).cache).toBe('MISS');
    const before = upstreamCalls(global);
    // Newest first, so reading does not disturb what the bound keeps.
    expect((await chat(bodies[3]!, TTL, ADMIN, global)).cache).toBe('HIT');
    expect((await chat(bodies[2]!, TTL, ADMIN, global)).cache).toBe('HIT');
    expect((await chat(bodies[1]!, TTL, ADMIN, global)).cache).toBe('HIT');
    expect((await chat(bodies[0]!, TTL, ADMIN, global)).cache).toBe('MISS');
    expect(upstreamCalls(global) - before).toBe(1);
    const metrics = await (await fetch(`${global.server.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN}` } })).text();
    expect(Number(/^switchboard_cache_evictions_total (\S+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(2);
  });
});

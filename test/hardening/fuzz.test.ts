import fc from 'fast-check';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/app.js';

/** What a leaked stack trace or source path looks like in an answer. */
const LEAK = /\n\s+at |\bat [\w.<>]+ \(|node_modules|\/work\/|\.[cm]?[jt]s:\d+:\d+/;

const RUNS = { numRuns: 200, seed: 20_261_126 } as const;

const VALID_DOCUMENTS = [
  'query Normal { model(id: "local/echo") { id name contextLength endpoints { providerModelId provider { id } } } }',
  'query Page($first: Int, $after: String) { models(first: $first, after: $after) { edges { cursor node { id } } pageInfo { hasNextPage } } }',
  'mutation Complete($input: CompletionInput!) { createCompletion(input: $input) { id message { content } usage { totalTokens } } }',
  'query Gen($id: ID!) { generation(id: $id) { id status attempts { __typename } } }',
  'query Many { providers { id name kind enabled } me { id } }',
  'fragment F on Model { id name } query Frag { model(id: "local/echo") { ...F } }',
];

/** A valid document with a random slice cut out and random text put in its place. */
const mutatedDocument = fc
  .tuple(fc.constantFrom(...VALID_DOCUMENTS), fc.nat(), fc.nat({ max: 8 }), fc.string({ maxLength: 6 }))
  .map(([document, at, cut, insert]) => {
    const position = at % (document.length + 1);
    return document.slice(0, position) + insert + document.slice(position + cut);
  });

const anyDocument = fc.oneof(mutatedDocument, fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 100 }), fc.constantFrom(...VALID_DOCUMENTS));

/**
 * One character repeated up to 60,000 times: a single pre-tokenizer piece, which the tokenizer's merge once took
 * seconds to count (quadratic or worse in the run's length) while the event loop waited.
 */
const longRun = fc
  .tuple(fc.constantFrom('a', 'A', 'é', '数', '😀', ' ', '!', '1', '\n', 'ab', '<|endoftext|>'), fc.integer({ min: 1_000, max: 60_000 }))
  .map(([unit, length]) => unit.repeat(Math.ceil(length / unit.length)));

const completionInput = fc.record(
  {
    model: fc.oneof(fc.constant('local/echo'), fc.string({ maxLength: 20 })),
    messages: fc.oneof(
      fc.array(fc.record({ role: fc.constantFrom('USER', 'SYSTEM', 'ASSISTANT', 'TOOL', 'user', 'nobody'), content: fc.oneof(fc.string({ maxLength: 40 }), fc.constant(null), fc.integer(), longRun) }, { requiredKeys: [] }), { maxLength: 4 }),
      fc.jsonValue({ maxDepth: 2 }),
    ),
    maxTokens: fc.oneof(fc.integer(), fc.double(), fc.string({ maxLength: 4 })),
    temperature: fc.oneof(fc.double(), fc.constant('hot')),
    stop: fc.oneof(fc.array(fc.string({ maxLength: 5 }), { maxLength: 6 }), fc.string()),
    tools: fc.jsonValue({ maxDepth: 3 }),
    metadata: fc.jsonValue({ maxDepth: 3 }),
  },
  { requiredKeys: [] },
);

const variables = fc.oneof(fc.record({ input: completionInput, first: fc.oneof(fc.integer(), fc.string()), id: fc.jsonValue({ maxDepth: 1 }) }, { requiredKeys: [] }), fc.jsonValue({ maxDepth: 3 }));

interface GraphQLAnswer {
  errors?: Array<{ message?: unknown; extensions?: { code?: unknown } }>;
}

describe('fuzzing: client mistakes never crash the gateway, answer 5xx, or leak internals', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.stop();
  });

  it('long single-token prompts to local/echo: exact usage, and the event loop keeps turning', async () => {
    await fc.assert(
      fc.asyncProperty(longRun, fc.boolean(), fc.option(fc.integer({ min: 1, max: 50 }), { nil: undefined }), async (content, stream, maxTokens) => {
        let longestGap = 0;
        let last = performance.now();
        const ticker = setInterval(() => {
          const now = performance.now();
          longestGap = Math.max(longestGap, now - last);
          last = now;
        }, 5);
        const response = await fetch(`${server.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'local/echo', messages: [{ role: 'user', content }], stream, ...(maxTokens ? { max_tokens: maxTokens } : {}) }),
        });
        const text = await response.text();
        clearInterval(ticker);
        expect(response.status, text.slice(0, 300)).toBe(200);
        expect(text).not.toMatch(LEAK);
        // A run of 60,000 characters took 5-20 s before; a generous bound keeps a busy machine from failing this.
        expect(longestGap).toBeLessThan(1_000);
      }),
      { numRuns: 40, seed: 20_261_130 },
    );
    await stillServing();
  }, 120_000);

  const stillServing = async (): Promise<void> => {
    const body = await server.graphql('{ __typename }');
    expect(body.data).toEqual({ __typename: 'Query' });
  };

  it('random and malformed GraphQL documents with random variables', async () => {
    await fc.assert(
      fc.asyncProperty(anyDocument, variables, fc.option(fc.string({ maxLength: 10 })), async (query, vars, operationName) => {
        const response = await fetch(`${server.url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
          body: JSON.stringify({ query, variables: vars, operationName }),
        });
        const text = await response.text();
        expect(response.status, text).toBeLessThan(500);
        expect(text).not.toMatch(LEAK);
        const body = JSON.parse(text) as GraphQLAnswer;
        for (const error of body.errors ?? []) expect(error.extensions?.code, text).not.toBe('INTERNAL');
      }),
      RUNS,
    );
    await stillServing();
  }, 30_000);

  it('malformed GraphQL request bodies', async () => {
    const body = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.json({ maxDepth: 3 }),
      fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify({ query: value })),
      fc.string({ unit: 'binary', maxLength: 200 }),
    );
    await fc.assert(
      fc.asyncProperty(body, fc.constantFrom('application/json', 'application/graphql-response+json', 'application/graphql', 'application/json; charset=latin1'), async (payload, contentType) => {
        const response = await fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': contentType, accept: 'application/json' }, body: payload });
        const text = await response.text();
        expect(response.status, text).toBeLessThan(500);
        expect(text).not.toMatch(LEAK);
      }),
      RUNS,
    );
    await stillServing();
  }, 30_000);

  it('random REST bodies for /v1/chat/completions', async () => {
    const message = fc.record(
      {
        role: fc.oneof(fc.constantFrom('user', 'system', 'assistant', 'tool', 'developer'), fc.string({ maxLength: 8 })),
        content: fc.oneof(fc.string({ maxLength: 40 }), fc.constant(null), fc.array(fc.record({ type: fc.constantFrom('text', 'image_url', 'audio'), text: fc.oneof(fc.string({ maxLength: 10 }), longRun) }, { requiredKeys: [] }), { maxLength: 3 }), fc.integer(), longRun),
        tool_call_id: fc.string({ maxLength: 8 }),
        tool_calls: fc.jsonValue({ maxDepth: 2 }),
      },
      { requiredKeys: [] },
    );
    const request = fc.record(
      {
        model: fc.oneof(fc.constant('local/echo'), fc.string({ maxLength: 20 }), fc.integer()),
        messages: fc.oneof(fc.array(message, { maxLength: 4 }), fc.jsonValue({ maxDepth: 2 })),
        max_tokens: fc.oneof(fc.integer(), fc.double(), fc.string({ maxLength: 3 })),
        max_completion_tokens: fc.integer(),
        temperature: fc.oneof(fc.double(), fc.string({ maxLength: 3 })),
        top_p: fc.double(),
        n: fc.integer({ min: -2, max: 4 }),
        stream: fc.oneof(fc.boolean(), fc.string({ maxLength: 3 })),
        stream_options: fc.jsonValue({ maxDepth: 2 }),
        tools: fc.jsonValue({ maxDepth: 3 }),
        tool_choice: fc.jsonValue({ maxDepth: 2 }),
        response_format: fc.jsonValue({ maxDepth: 2 }),
        stop: fc.jsonValue({ maxDepth: 1 }),
        seed: fc.oneof(fc.integer(), fc.double()),
      },
      { requiredKeys: [] },
    );
    const body = fc.oneof({ weight: 4, arbitrary: request.map((value) => JSON.stringify(value)) }, fc.string({ maxLength: 100 }), fc.json({ maxDepth: 2 }));
    await fc.assert(
      fc.asyncProperty(body, async (payload) => {
        const response = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-anything' }, body: payload });
        const text = await response.text();
        expect(response.status, text).toBeLessThan(500);
        expect(text).not.toMatch(LEAK);
      }),
      RUNS,
    );
    await stillServing();
  }, 30_000);

  it('random WebSocket frames', async () => {
    // graphql-ws reports its own internal errors on console.error (and closes with 4500): none may happen.
    const consoleError = vi.spyOn(console, 'error');
    const frame = fc.oneof(
      fc.string({ maxLength: 80 }),
      fc.json({ maxDepth: 3 }),
      fc
        .record(
          {
            type: fc.oneof(fc.constantFrom('connection_init', 'subscribe', 'complete', 'ping', 'pong', 'next', 'error'), fc.string({ maxLength: 8 })),
            id: fc.oneof(fc.string({ maxLength: 6 }), fc.integer()),
            payload: fc.oneof(fc.record({ query: anyDocument, variables, operationName: fc.string({ maxLength: 6 }) }, { requiredKeys: [] }), fc.jsonValue({ maxDepth: 2 })),
          },
          { requiredKeys: ['type'] },
        )
        .map((message) => JSON.stringify(message)),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(frame, { minLength: 1, maxLength: 4 }), async (frames) => {
        const socket = new WebSocket(server.wsUrl, 'graphql-transport-ws');
        const received: string[] = [];
        socket.on('message', (data: Buffer) => received.push(data.toString('utf8')));
        const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
        await new Promise((resolve, reject) => {
          socket.once('open', resolve);
          socket.once('error', reject);
        });
        socket.send(JSON.stringify({ type: 'connection_init' }));
        for (const text of frames) socket.send(text);
        socket.send(JSON.stringify({ type: 'ping' }));
        // Either the server answers the ping (the socket survived the frames) or it closed the socket with a protocol code.
        const outcome = await Promise.race([
          closed,
          new Promise<'pong'>((resolve) => {
            const check = (): void => {
              if (received.some((text) => text.includes('"pong"'))) resolve('pong');
            };
            socket.on('message', check);
            check();
          }),
        ]);
        if (outcome !== 'pong') {
          // 4400 bad message, 4401 unauthorized, 4409 duplicate id, 4429 too many init: the client's fault, said so.
          expect([4400, 4401, 4403, 4409, 4429, 1000, 1005]).toContain(outcome);
        }
        socket.close();
        await closed;
        for (const text of received) {
          expect(text).not.toMatch(LEAK);
          expect(text).not.toContain('"INTERNAL"');
        }
      }),
      { ...RUNS, numRuns: 150 },
    );
    await stillServing();
    expect(consoleError.mock.calls.map((call) => String(call[0]))).toEqual([]);
    consoleError.mockRestore();
  }, 60_000);
});

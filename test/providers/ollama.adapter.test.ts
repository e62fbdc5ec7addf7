import { z } from 'zod';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createOllamaAdapter } from '../../src/providers/ollama/adapter.js';
import type { CompletionRequest, StreamEvent } from '../../src/providers/types.js';
import type { FakeUpstream } from '../conformance/harness.js';
import { startFakeOllama } from '../fakes/ollama.js';
import { startFakeServer, type FakeServer } from '../fakes/server.js';
import { collect } from '../helpers/collect.js';
import { expectEchoedSecretRedacted } from '../helpers/echoed-secrets.js';
import { createAdapter } from '../../src/providers/registry.js';

const signal = (): AbortSignal => new AbortController().signal;
const hello: CompletionRequest = { model: 'llama3.2', messages: [{ role: 'user', content: [{ type: 'text', text: 'Say hello' }] }] };

describe('Ollama adapter against a local (unauthenticated) fake', () => {
  let fake: FakeUpstream;
  const adapter = () => createOllamaAdapter({ id: 'ollama-local', kind: 'ollama', name: 'Ollama', baseUrl: fake.url });

  beforeAll(async () => {
    fake = await startFakeOllama();
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(() => {
    fake.received.length = 0;
  });

  it('sends no Authorization header without a key, and says stream false or true explicitly', async () => {
    const response = await adapter().complete(hello, { signal: signal() });
    expect(response.content).toBe('You said: Say hello');
    await collect(adapter().stream(hello, { signal: signal() }));
    expect(fake.received.map((request) => [request.path, request.headers['authorization'], z.object({ stream: z.boolean() }).parse(request.body).stream])).toEqual([
      ['/api/chat', undefined, false],
      ['/api/chat', undefined, true],
    ]);
  });

  it('opens a stream with start carrying the model and warnings, and closes with one finish', async () => {
    const events = await collect(adapter().stream({ ...hello, user: 'someone' }, { signal: signal() }));
    expect(events[0]).toEqual({ type: 'start', model: 'llama3.2', warnings: [expect.stringContaining('end-user')] });
    expect(events.filter((event) => event.type === 'finish')).toHaveLength(1);
    expect(events.at(-1)?.type).toBe('finish');
  });

  it('maps a load reply (no messages) to an empty normal stop', async () => {
    const response = await adapter().complete({ model: 'llama3.2', messages: [] }, { signal: signal() });
    expect(response).toMatchObject({ content: '', finishReason: 'stop', rawFinishReason: 'load', usage: { promptTokens: 0, completionTokens: 0 } });
  });

  it('lists models from /api/tags', async () => {
    expect(await adapter().listModels!({ signal: signal() })).toEqual([{ id: 'llama3.2:latest' }, { id: 'qwen3:8b' }]);
    expect(fake.received[0]?.path).toBe('/api/tags');
  });

  it('maps an unknown model to not_found with Ollama’s message', async () => {
    fake.enqueue({ kind: 'error', error: 'not_found' });
    const error = await adapter().complete(hello, { signal: signal() }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ kind: 'not_found', status: 404, provider: 'ollama-local', isRetryable: false });
    expect((error as Error).message).toContain('model "llama3.2" not found');
  });
});

describe('Ollama adapter behind an authenticating proxy', () => {
  it('maps a refused key to authentication without leaking the key', async () => {
    const fake = await startFakeOllama({ apiKey: 'right-key' });
    try {
      const adapter = createOllamaAdapter({ id: 'ollama', kind: 'ollama', name: 'Ollama', baseUrl: fake.url, apiKey: 'wrong-key-9x' });
      const error = await adapter.complete(hello, { signal: signal() }).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ kind: 'authentication', status: 401 });
      expect((error as Error).message).not.toContain('wrong-key-9x');
      expect(fake.received[0]?.headers['authorization']).toBe('Bearer wrong-key-9x');
    } finally {
      await fake.close();
    }
  });
});

describe('Ollama adapter against odd upstream streams', () => {
  let server: FakeServer;
  let body = '';
  beforeAll(async () => {
    server = await startFakeServer(({ res }) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.end(body);
    });
  });
  afterAll(async () => {
    await server.close();
  });
  const adapter = () => createOllamaAdapter({ id: 'ollama', kind: 'ollama', name: 'Ollama', baseUrl: server.url });

  it('throws a stream_error when the stream closes before its done line', async () => {
    body = '{"model":"llama3.2","message":{"role":"assistant","content":"Half"},"done":false}\n';
    const events: StreamEvent[] = [];
    const error = await (async () => {
      for await (const event of adapter().stream(hello, { signal: signal() })) events.push(event);
    })().catch((caught: unknown) => caught);
    expect(error).toMatchObject({ kind: 'stream_error' });
    expect(events.map((event) => event.type)).toEqual(['start', 'text-delta']);
  });

  it('throws malformed_response for a line that is JSON but not a ChatResponse', async () => {
    body = '{"model":"llama3.2","done":"yes"}\n';
    const error = await collect(adapter().stream(hello, { signal: signal() })).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ kind: 'malformed_response' });
  });

  it('streams reasoning from thinking fields and a last line without a trailing newline', async () => {
    body = [
      '{"model":"qwen3","message":{"role":"assistant","content":"","thinking":"Hmm."},"done":false}',
      '{"model":"qwen3","message":{"role":"assistant","content":"Yes."},"done":false}',
      '{"model":"qwen3","message":{"role":"assistant","content":""},"done":true,"done_reason":"length","prompt_eval_count":5,"eval_count":7}',
    ].join('\n');
    const events = await collect(adapter().stream(hello, { signal: signal() }));
    expect(events.slice(1)).toEqual([
      { type: 'reasoning-delta', text: 'Hmm.' },
      { type: 'text-delta', text: 'Yes.' },
      { type: 'finish', finishReason: 'length', rawFinishReason: 'length', usage: { promptTokens: 5, completionTokens: 7, totalTokens: 12, cachedPromptTokens: 0, reasoningTokens: 0, estimated: false } },
    ]);
  });
});

describe('ollama keys echoed by the upstream (an Ollama behind an authenticating proxy)', () => {
  it('are redacted from every error the registry’s adapter throws', async () => {
    const key = 'olk-proxy/Echo"Key0123456789';
    const fake = await startFakeOllama({ apiKey: key });
    try {
      await expectEchoedSecretRedacted(createAdapter({ id: 'ollama', kind: 'ollama', name: 'Ollama', baseUrl: fake.url, apiKey: key }, { localDelayMs: 0 }), fake, key, hello);
    } finally {
      await fake.close();
    }
  });
});

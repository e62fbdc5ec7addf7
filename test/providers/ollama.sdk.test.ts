import { Ollama, type ChatResponse } from 'ollama';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FakeUpstream } from '../conformance/harness.js';
import { startFakeOllama } from '../fakes/ollama.js';

/** The official SDK must read the fake's replies exactly as it reads a real Ollama's: proof the fake speaks the real wire format. */
describe('Ollama fake, read by the official ollama SDK', () => {
  let fake: FakeUpstream;
  let ollama: Ollama;

  beforeAll(async () => {
    fake = await startFakeOllama();
    ollama = new Ollama({ host: fake.url });
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(() => {
    fake.received.length = 0;
  });

  it('parses a non-streamed chat', async () => {
    fake.enqueue({ kind: 'text', text: 'Hello there!', promptTokens: 12, completionTokens: 4 });
    const response = await ollama.chat({ model: 'llama3.2', messages: [{ role: 'user', content: 'Say hello' }] });
    expect(response.message.content).toBe('Hello there!');
    expect(response.done).toBe(true);
    expect(response.done_reason).toBe('stop');
    expect(response.prompt_eval_count).toBe(12);
    expect(response.eval_count).toBe(4);
    expect(fake.received[0]?.path).toBe('/api/chat');
  });

  it('parses a streamed chat', async () => {
    fake.enqueue({ kind: 'text', text: 'One two three four', promptTokens: 9, completionTokens: 4 });
    const parts: ChatResponse[] = [];
    for await (const part of await ollama.chat({ model: 'llama3.2', messages: [{ role: 'user', content: 'Count' }], stream: true })) parts.push(part);
    expect(parts.map((part) => part.message.content).join('')).toBe('One two three four');
    expect(parts.filter((part) => part.done)).toHaveLength(1);
    expect(parts.at(-1)).toMatchObject({ done: true, done_reason: 'stop', prompt_eval_count: 9, eval_count: 4 });
  });

  it('parses tool calls', async () => {
    fake.enqueue({ kind: 'tool-call', id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}', promptTokens: 30, completionTokens: 10 });
    const response = await ollama.chat({
      model: 'llama3.2',
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      tools: [{ type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }],
    });
    expect(response.message.tool_calls).toHaveLength(1);
    expect(response.message.tool_calls?.[0]?.function).toEqual({ name: 'get_weather', arguments: { city: 'Paris' } });
  });

  it('answers a chat without messages as a model load', async () => {
    const response = await ollama.chat({ model: 'llama3.2', messages: [] });
    expect(response.done_reason).toBe('load');
    expect(response.message.content).toBe('');
  });

  it('lists local models from /api/tags', async () => {
    const list = await ollama.list();
    expect(list.models.map((model) => model.name)).toEqual(['llama3.2:latest', 'qwen3:8b']);
    expect(list.models[0]?.details.quantization_level).toBe('Q4_K_M');
  });

  it('raises a ResponseError with the status code for an error response', async () => {
    fake.enqueue({ kind: 'error', error: 'not_found' });
    const error = await ollama.chat({ model: 'nope', messages: [{ role: 'user', content: 'Hi' }] }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ name: 'ResponseError', status_code: 404, error: 'model "nope" not found, try pulling it first' });
  });

  it('raises the error line of a failing stream', async () => {
    fake.enqueue({ kind: 'mid-stream-error', textBefore: 'Partial answer' });
    const texts: string[] = [];
    const error = await (async () => {
      for await (const part of await ollama.chat({ model: 'llama3.2', messages: [{ role: 'user', content: 'Hi' }], stream: true })) texts.push(part.message.content);
    })().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe('llama runner process has terminated: exit status 2');
    expect(texts.join('')).toBe('Partial answer');
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INPUT_LIMITS, validateAgainstModel, validateCompletionInput } from '../../src/completions/validate.js';
import type { CompletionInput } from '../../src/completions/types.js';
import type { Message } from '../../src/providers/types.js';
import { startTestServer, type TestServer } from '../helpers/app.js';
import { refusal } from '../helpers/errors.js';

const user = (text: string): Message => ({ role: 'user', content: [{ type: 'text', text }] });
const base = (overrides: Partial<CompletionInput> = {}): CompletionInput => ({ model: 'local/echo', messages: [user('hi')], ...overrides });


describe('input limits shared by GraphQL and REST', () => {
  it('accepts a request right at every limit', () => {
    expect(() =>
      validateCompletionInput(
        base({
          messages: [...Array.from({ length: INPUT_LIMITS.messages - 1 }, () => user('x')), user('y'.repeat(INPUT_LIMITS.messageChars - INPUT_LIMITS.messages))],
          tools: Array.from({ length: INPUT_LIMITS.tools }, (_, index) => ({ name: `tool_${index}`, parameters: { type: 'object' } })),
          stop: ['a'.repeat(INPUT_LIMITS.stopSequenceChars)],
        }),
      ),
    ).not.toThrow();
  });

  it.each([
    ['messages', base({ messages: Array.from({ length: INPUT_LIMITS.messages + 1 }, () => user('x')) }), 'messages'],
    ['one message too long', base({ messages: [user('x'.repeat(INPUT_LIMITS.messageChars + 1))] }), 'messages[0].content'],
    ['all messages too long', base({ messages: [user('x'.repeat(INPUT_LIMITS.messageChars)), user('x'.repeat(INPUT_LIMITS.messageChars)), user('x')] }), 'messages'],
    ['a system prompt too long', base({ messages: [{ role: 'system', content: 'x'.repeat(INPUT_LIMITS.messageChars + 1) }, user('hi')] }), 'messages[0].content'],
    ['tools', base({ tools: Array.from({ length: INPUT_LIMITS.tools + 1 }, (_, index) => ({ name: `tool_${index}`, parameters: {} })) }), 'tools'],
    ['tool schema', base({ tools: [{ name: 'big', parameters: { blob: 'x'.repeat(INPUT_LIMITS.toolParametersChars) } }] }), 'tools[0].parameters'],
    ['fallback models', base({ models: Array.from({ length: INPUT_LIMITS.fallbackModels + 1 }, () => 'local/echo') }), 'models'],
    ['model id', base({ model: 'm'.repeat(INPUT_LIMITS.modelIdChars + 1) }), 'model'],
    ['stop sequence', base({ stop: ['s'.repeat(INPUT_LIMITS.stopSequenceChars + 1)] }), 'stop[0]'],
    ['empty stop sequence', base({ stop: [''] }), 'stop[0]'],
    ['metadata', base({ metadata: { note: 'n'.repeat(INPUT_LIMITS.metadataChars) } }), 'metadata'],
    ['images', base({ messages: [{ role: 'user', content: Array.from({ length: INPUT_LIMITS.images + 1 }, () => ({ type: 'image' as const, url: 'https://example.com/a.png' })) }] }), 'messages'],
    ['temperature', base({ temperature: 2.5 }), 'temperature'],
    ['topP', base({ topP: -0.1 }), 'topP'],
    ['seed', base({ seed: 2 ** 60 }), 'seed'],
    ['maxTokens', base({ maxTokens: 0 }), 'maxTokens'],
  ])('refuses too many or too large %s, naming the field', (_name, input, field) => {
    const error = refusal(() => validateCompletionInput(input));
    expect(error.code).toBe('BAD_REQUEST');
    expect(error.field).toBe(field);
  });

  it('checks maxTokens against the resolved model', () => {
    const model = { id: 'openai/gpt-4o-mini', maxOutputTokens: 16_384, contextLength: 128_000 };
    expect(() => validateAgainstModel({ maxTokens: 16_384 }, model)).not.toThrow();
    expect(() => validateAgainstModel({}, model)).not.toThrow();
    const error = refusal(() => validateAgainstModel({ maxTokens: 16_385 }, model));
    expect(error).toMatchObject({ field: 'maxTokens', message: 'maxTokens must be at most 16384 for openai/gpt-4o-mini' });
    // A model that publishes no output ceiling is held to its context window.
    expect(refusal(() => validateAgainstModel({ maxTokens: 8193 }, { id: 'x/y', maxOutputTokens: null, contextLength: 8192 })).field).toBe('maxTokens');
  });
});

describe('input limits through both transports', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.stop();
  });

  it('GraphQL answers BAD_REQUEST naming the field', async () => {
    const body = await server.graphql('mutation ($input: CompletionInput!) { createCompletion(input: $input) { id } }', {
      input: { model: 'local/echo', messages: Array.from({ length: INPUT_LIMITS.messages + 1 }, () => ({ role: 'USER', content: 'x' })) },
    });
    expect(body.errors?.[0]).toMatchObject({ message: `messages takes at most ${INPUT_LIMITS.messages} messages`, extensions: { code: 'BAD_REQUEST', field: 'messages' } });
  });

  it('REST answers 400 with the OpenAI error body naming the param', async () => {
    const response = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-anything' },
      body: JSON.stringify({
        model: 'local/echo',
        messages: [{ role: 'user', content: 'hi' }],
        tools: Array.from({ length: INPUT_LIMITS.tools + 1 }, (_, index) => ({ type: 'function', function: { name: `tool_${index}`, parameters: { type: 'object' } } })),
      }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { type: 'invalid_request_error', code: 'bad_request', param: 'tools' } });
  });
});

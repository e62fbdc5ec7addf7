import { describe, expect, it } from 'vitest';
import { BadRequestError } from '../../src/errors.js';
import { parseChatCompletionRequest } from '../../src/rest/chat-request.js';
import { usdText } from '../../src/rest/chat-response.js';

const user = { role: 'user', content: 'Hi' };

function refusal(body: Record<string, unknown>): BadRequestError {
  try {
    parseChatCompletionRequest(body);
  } catch (error) {
    if (error instanceof BadRequestError) return error;
    throw error;
  }
  throw new Error('expected the request to be refused');
}

describe('the OpenAI request mapped onto the completion service input', () => {
  it('maps every supported field', () => {
    const parsed = parseChatCompletionRequest({
      model: 'openai/gpt-4o-mini',
      models: ['anthropic/claude-haiku', 'local/echo'],
      provider: { order: ['openai'], allow_fallbacks: false },
      messages: [
        { role: 'developer', content: [{ type: 'text', text: 'Be ' }, { type: 'text', text: 'brief.' }] },
        { role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA', detail: 'low' } }] },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'look', arguments: '{"x":1}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: [{ type: 'text', text: 'a cat' }] },
      ],
      temperature: 0.2,
      top_p: 0.9,
      stop: 'END',
      max_tokens: 50,
      max_completion_tokens: 40,
      seed: 7,
      tools: [{ type: 'function', function: { name: 'look', description: 'Looks', parameters: { type: 'object' }, strict: true } }],
      tool_choice: { type: 'function', function: { name: 'look' } },
      response_format: { type: 'json_schema', json_schema: { name: 'answer', schema: { type: 'object' }, strict: true } },
      stream: true,
      stream_options: { include_usage: true },
      user: 'end-user-1',
      metadata: { team: 'search' },
      presence_penalty: 0.5,
      frequency_penalty: -0.5,
      logit_bias: { '50256': -100 },
      parallel_tool_calls: false,
      reasoning_effort: 'low',
      service_tier: 'flex',
      store: true,
      n: 3,
      logprobs: true,
      top_logprobs: 2,
      some_future_field: { nested: true },
    });
    expect(parsed.stream).toBe(true);
    expect(parsed.includeUsage).toBe(true);
    expect(parsed.input).toEqual({
      model: 'openai/gpt-4o-mini',
      models: ['anthropic/claude-haiku', 'local/echo'],
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image', url: 'data:image/png;base64,AAAA', detail: 'low' }] },
        { role: 'assistant', content: null, toolCalls: [{ id: 'call_1', name: 'look', arguments: '{"x":1}' }] },
        { role: 'tool', toolCallId: 'call_1', content: 'a cat' },
      ],
      // max_completion_tokens wins over the deprecated max_tokens.
      maxTokens: 40,
      temperature: 0.2,
      topP: 0.9,
      stop: ['END'],
      seed: 7,
      tools: [{ name: 'look', description: 'Looks', parameters: { type: 'object' }, strict: true }],
      toolChoice: { type: 'tool', name: 'look' },
      responseFormat: { type: 'json_schema', name: 'answer', schema: { type: 'object' }, strict: true },
      user: 'end-user-1',
      metadata: { team: 'search' },
      provider: { order: ['openai'], allowFallbacks: false },
      presencePenalty: 0.5,
      frequencyPenalty: -0.5,
      logitBias: { '50256': -100 },
      parallelToolCalls: false,
      reasoningEffort: 'low',
      serviceTier: 'flex',
      store: true,
      n: 3,
      logprobs: true,
      topLogprobs: 2,
    });
  });

  it('keeps a minimal request minimal', () => {
    const parsed = parseChatCompletionRequest({ model: 'local/echo', messages: [user], max_tokens: 12, tool_choice: 'none', stop: ['a', 'b'] });
    expect(parsed).toEqual({
      input: { model: 'local/echo', messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }], maxTokens: 12, stop: ['a', 'b'], toolChoice: { type: 'none' } },
      stream: false,
      includeUsage: false,
      // The caller wrote max_tokens, so an error about it will say max_tokens.
      maxTokensParam: 'max_tokens',
    });
  });

  it('gives a tool without parameters an empty object schema', () => {
    const parsed = parseChatCompletionRequest({ model: 'm', messages: [user], tools: [{ type: 'function', function: { name: 'ping' } }], tool_choice: 'required' });
    expect(parsed.input.tools).toEqual([{ name: 'ping', parameters: { type: 'object', properties: {} } }]);
    expect(parsed.input.toolChoice).toEqual({ type: 'required' });
  });

  it.each([
    [{ audio: { voice: 'alloy', format: 'mp3' } }, 'audio'],
    [{ modalities: ['text', 'audio'] }, 'modalities'],
    [{ functions: [{ name: 'f' }] }, 'functions'],
    [{ function_call: 'auto' }, 'function_call'],
    [{ web_search_options: {} }, 'web_search_options'],
  ])('refuses %j, which it cannot honour, naming the param', (extra, param) => {
    expect(refusal({ model: 'm', messages: [user], ...extra }).field).toBe(param);
  });

  it('accepts the values of those params that change nothing', () => {
    expect(() => parseChatCompletionRequest({ model: 'm', messages: [user], n: 1, logprobs: false, top_logprobs: 0, modalities: ['text'] })).not.toThrow();
  });

  it('refuses audio and file content parts and the legacy function role by position', () => {
    const audio = refusal({ model: 'm', messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'AA', format: 'wav' } }] }] });
    expect(audio.field).toBe('messages[0].content[0].type');
    expect(audio.message).toContain('input_audio');
    expect(refusal({ model: 'm', messages: [user, { role: 'function', name: 'f', content: 'x' }] }).field).toBe('messages[1].role');
  });

  it('names the param of a malformed field the way OpenAI does', () => {
    expect(refusal({ model: 'm', messages: [{ role: 'user', content: 5 }] })).toMatchObject({
      field: 'messages[0].content',
      message: "Invalid value for 'messages[0].content': Expected string or array, received number",
    });
    expect(refusal({ model: 'm', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: {} }] }] }).field).toBe('messages[0].content[0].image_url.url');
    expect(refusal({ model: 'm', messages: [{ role: 'robot', content: 'x' }] }).field).toBe('messages[0].role');
    expect(refusal({ model: 'm', messages: [user], temperature: 3 }).field).toBe('temperature');
    expect(refusal({ model: 'm', messages: [user], max_completion_tokens: 0 }).field).toBe('max_completion_tokens');
    expect(refusal({ model: 'm', messages: [user], stop: ['a', 'b', 'c', 'd', 'e'] }).field).toBe('stop');
    expect(refusal({ messages: [user] }).field).toBe('model');
    expect(refusal({ model: 'm', messages: [user], response_format: { type: 'json_schema', json_schema: { name: 'x' } } }).field).toBe('response_format.json_schema.schema');
  });

  it('refuses a body that is not an object', () => {
    expect(refusal([] as unknown as Record<string, unknown>).message).toMatch(/^Invalid request body/);
  });
});

describe('the cost header', () => {
  it('prints integer pico-dollars as an exact decimal', () => {
    expect(usdText(0)).toBe('0');
    expect(usdText(1)).toBe('0.000000000001');
    expect(usdText(4_350_000)).toBe('0.00000435');
    expect(usdText(1_500_000_000_000)).toBe('1.5');
    expect(usdText(2_000_000_000_000)).toBe('2');
  });
});

import { describe, expect, it } from 'vitest';
import { describeOllamaError } from '../../src/providers/ollama/errors.js';
import { mapOllamaFinishReason } from '../../src/providers/ollama/finish-reason.js';
import { toOllamaRequestBody } from '../../src/providers/ollama/request.js';
import { fromOllamaResponse } from '../../src/providers/ollama/response.js';
import { OllamaStreamMapper } from '../../src/providers/ollama/stream.js';
import { chatResponseSchema } from '../../src/providers/ollama/wire.js';
import type { CompletionRequest, Message } from '../../src/providers/types.js';

const PIXEL_DATA = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
const weather = { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } };
const time = { name: 'get_time', parameters: { type: 'object', properties: {} } };
const hi: Message = { role: 'user', content: [{ type: 'text', text: 'Hi' }] };

/** Replays a ChatResponse JSON line through the wire schema, as the adapter does. */
function wire(text: string) {
  return chatResponseSchema.parse(JSON.parse(text));
}

describe('toOllamaRequestBody', () => {
  it('maps messages: bare base64 images, tool calls as objects, results named after their call', () => {
    const request: CompletionRequest = {
      model: 'llama3.2',
      messages: [
        { role: 'system', content: 'Be terse.' },
        { role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'text', text: 'And the weather?' }, { type: 'image', url: `data:image/png;base64,${PIXEL_DATA}` }] },
        { role: 'assistant', content: null, toolCalls: [{ id: 'call_0', name: 'get_weather', arguments: '{"city":"Paris"}' }] },
        { role: 'tool', toolCallId: 'call_0', content: '{"temp_c":18}' },
        { role: 'tool', toolCallId: 'call_unknown', content: 'orphan' },
      ],
      maxTokens: 64,
      temperature: 0.2,
      topP: 0.9,
      stop: ['END'],
      seed: 3,
      tools: [weather],
    };
    const { body, warnings } = toOllamaRequestBody(request, true);
    expect(warnings).toEqual([]);
    expect(body).toEqual({
      model: 'llama3.2',
      stream: true,
      messages: [
        { role: 'system', content: 'Be terse.' },
        { role: 'user', content: 'What is this?\nAnd the weather?', images: [PIXEL_DATA] },
        { role: 'assistant', content: '', tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Paris' } } }] },
        { role: 'tool', content: '{"temp_c":18}', tool_name: 'get_weather' },
        { role: 'tool', content: 'orphan' },
      ],
      options: { num_predict: 64, temperature: 0.2, top_p: 0.9, stop: ['END'], seed: 3 },
      tools: [{ type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: weather.parameters } }],
    });
  });

  it('sends "json" for json_object and the schema itself for json_schema', () => {
    const schema = { type: 'object', properties: { ok: { type: 'boolean' } } };
    expect(toOllamaRequestBody({ model: 'm', messages: [hi], responseFormat: { type: 'json_object' } }, false).body.format).toBe('json');
    expect(toOllamaRequestBody({ model: 'm', messages: [hi], responseFormat: { type: 'json_schema', name: 'r', schema } }, false).body.format).toEqual(schema);
    expect(toOllamaRequestBody({ model: 'm', messages: [hi], responseFormat: { type: 'text' } }, false).body.format).toBeUndefined();
  });

  it('honours tool choice where Ollama can and warns where it cannot', () => {
    const none = toOllamaRequestBody({ model: 'm', messages: [hi], tools: [weather, time], toolChoice: { type: 'none' } }, false);
    expect(none.body.tools).toBeUndefined();
    expect(none.warnings).toEqual([]);
    const named = toOllamaRequestBody({ model: 'm', messages: [hi], tools: [weather, time], toolChoice: { type: 'tool', name: 'get_time' } }, false);
    expect(named.body.tools?.map((tool) => tool.function.name)).toEqual(['get_time']);
    expect(named.warnings).toHaveLength(1);
    const required = toOllamaRequestBody({ model: 'm', messages: [hi], tools: [weather, time], toolChoice: { type: 'required' } }, false);
    expect(required.body.tools).toHaveLength(2);
    expect(required.warnings).toHaveLength(1);
  });

  it('warns about linked images, image detail, strict tools and the end-user id', () => {
    const { body, warnings } = toOllamaRequestBody(
      { model: 'm', messages: [{ role: 'user', content: [{ type: 'text', text: 'Look' }, { type: 'image', url: 'https://example.com/cat.png', detail: 'low' }] }], tools: [{ ...weather, strict: true }], user: 'u-1' },
      false,
    );
    expect(body.messages[0]).toEqual({ role: 'user', content: 'Look' });
    expect(warnings).toHaveLength(4);
  });
});

describe('fromOllamaResponse', () => {
  it('maps a tool call reply, synthesizing ids and turning stop into tool_calls', () => {
    const response = fromOllamaResponse(
      wire('{"model":"llama3.2","created_at":"2025-01-01T10:00:00Z","message":{"role":"assistant","content":"","thinking":"Need weather.","tool_calls":[{"function":{"name":"get_weather","arguments":{"city":"Paris"}}},{"function":{"name":"get_time","arguments":{}}}]},"done":true,"done_reason":"stop","prompt_eval_count":26,"eval_count":14}'),
      [],
    );
    expect(response).toEqual({
      model: 'llama3.2',
      content: null,
      reasoning: 'Need weather.',
      toolCalls: [
        { id: 'call_0', name: 'get_weather', arguments: '{"city":"Paris"}' },
        { id: 'call_1', name: 'get_time', arguments: '{}' },
      ],
      finishReason: 'tool_calls',
      rawFinishReason: 'stop',
      usage: { promptTokens: 26, completionTokens: 14, totalTokens: 40, cachedPromptTokens: 0, reasoningTokens: 0, estimated: false },
      warnings: [],
    });
  });

  it('keeps ids newer Ollama builds send', () => {
    const response = fromOllamaResponse(wire('{"message":{"role":"assistant","content":"","tool_calls":[{"id":"call_abc","function":{"index":0,"name":"f","arguments":{}}}]},"done":true,"done_reason":"stop"}'), []);
    expect(response.toolCalls[0]?.id).toBe('call_abc');
  });

  it('counts a missing prompt_eval_count (a cached prompt) as zero', () => {
    const response = fromOllamaResponse(wire('{"message":{"role":"assistant","content":"Hi"},"done":true,"done_reason":"stop","eval_count":2}'), []);
    expect(response.usage).toMatchObject({ promptTokens: 0, completionTokens: 2, totalTokens: 2, estimated: false });
  });

  it.each([
    ['stop', false, 'stop'],
    ['stop', true, 'tool_calls'],
    ['length', false, 'length'],
    ['load', false, 'stop'],
    ['unload', false, 'stop'],
    [undefined, false, 'stop'],
    ['weird', false, 'error'],
  ] as const)('maps done_reason %s (tool calls: %s) to %s', (raw, hasToolCalls, expected) => {
    expect(mapOllamaFinishReason(raw, hasToolCalls)).toBe(expected);
  });
});

describe('OllamaStreamMapper', () => {
  it('maps the documented transcript line by line', () => {
    const mapper = new OllamaStreamMapper();
    const transcript = [
      '{"model":"llama3.2","created_at":"2025-01-01T10:00:00.1Z","message":{"role":"assistant","content":"Hel"},"done":false}',
      '{"model":"llama3.2","created_at":"2025-01-01T10:00:00.2Z","message":{"role":"assistant","content":"lo!"},"done":false}',
      '{"model":"llama3.2","created_at":"2025-01-01T10:00:00.3Z","message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"get_weather","arguments":{"city":"Paris"}}}]},"done":false}',
      '{"model":"llama3.2","created_at":"2025-01-01T10:00:00.4Z","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","total_duration":912000000,"load_duration":2100000,"prompt_eval_count":26,"prompt_eval_duration":120000000,"eval_count":14,"eval_duration":700000000}',
    ];
    expect(transcript.flatMap((line) => mapper.map(wire(line)))).toEqual([
      { type: 'text-delta', text: 'Hel' },
      { type: 'text-delta', text: 'lo!' },
      { type: 'tool-call-delta', index: 0, id: 'call_0', name: 'get_weather', argumentsDelta: '{"city":"Paris"}' },
      { type: 'finish', finishReason: 'tool_calls', rawFinishReason: 'stop', usage: { promptTokens: 26, completionTokens: 14, totalTokens: 40, cachedPromptTokens: 0, reasoningTokens: 0, estimated: false } },
    ]);
  });
});

describe('describeOllamaError', () => {
  it('takes the message from {"error": …} and leaves the kind to the status', () => {
    expect(describeOllamaError(404, { error: 'model "x" not found, try pulling it first' })).toEqual({ message: 'model "x" not found, try pulling it first' });
  });

  it('recognises context overflow by its wording', () => {
    expect(describeOllamaError(400, { error: 'input length (9000 tokens) exceeds maximum context length (8192 tokens)' }).kind).toBe('context_length_exceeded');
  });

  it('keeps a proxy text body as the message', () => {
    expect(describeOllamaError(502, 'Bad Gateway')).toEqual({ message: 'Bad Gateway' });
  });
});

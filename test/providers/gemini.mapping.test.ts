import { describe, expect, it } from 'vitest';
import { describeGeminiError, parseGoogleDurationMs } from '../../src/providers/gemini/errors.js';
import { mapGeminiFinishReason } from '../../src/providers/gemini/finish-reason.js';
import { toGeminiRequestBody } from '../../src/providers/gemini/request.js';
import { fromGeminiResponse } from '../../src/providers/gemini/response.js';
import { GeminiStreamMapper } from '../../src/providers/gemini/stream.js';
import { generateContentResponseSchema } from '../../src/providers/gemini/wire.js';
import type { CompletionRequest } from '../../src/providers/types.js';

const PIXEL = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
const weather = { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } };

/** Replays a GenerateContentResponse JSON text through the wire schema, as the adapter does. */
function wire(text: string) {
  return generateContentResponseSchema.parse(JSON.parse(text));
}

describe('toGeminiRequestBody', () => {
  it('maps a tool conversation: roles, images, calls and results named after their call', () => {
    const request: CompletionRequest = {
      model: 'gemini-2.5-flash',
      messages: [
        { role: 'system', content: 'Be terse.' },
        { role: 'user', content: [{ type: 'text', text: 'Weather here and there?' }, { type: 'image', url: PIXEL }, { type: 'image', url: 'https://example.com/photo.webp?size=large' }] },
        { role: 'assistant', content: 'Checking.', toolCalls: [{ id: 'call_0', name: 'get_weather', arguments: '{"city":"Paris"}' }, { id: 'call_1', name: 'get_time', arguments: '{}' }] },
        { role: 'tool', toolCallId: 'call_0', content: '{"temp_c":18}' },
        { role: 'tool', toolCallId: 'call_1', content: '10:00' },
        { role: 'assistant', content: null, toolCalls: [{ id: 'call_0', name: 'get_news', arguments: '{"topic":"rain"}' }] },
        { role: 'tool', toolCallId: 'call_0', content: 'No news.' },
      ],
      tools: [weather],
    };
    const { body, warnings } = toGeminiRequestBody(request);
    expect(warnings).toEqual([]);
    expect(body.systemInstruction).toEqual({ parts: [{ text: 'Be terse.' }] });
    expect(body.contents).toEqual([
      {
        role: 'user',
        parts: [
          { text: 'Weather here and there?' },
          { inlineData: { mimeType: 'image/png', data: PIXEL.slice('data:image/png;base64,'.length) } },
          { fileData: { mimeType: 'image/webp', fileUri: 'https://example.com/photo.webp?size=large' } },
        ],
      },
      { role: 'model', parts: [{ text: 'Checking.' }, { functionCall: { name: 'get_weather', args: { city: 'Paris' } } }, { functionCall: { name: 'get_time', args: {} } }] },
      // Answers to parallel calls travel together in one user turn.
      { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { temp_c: 18 } } }, { functionResponse: { name: 'get_time', response: { output: '10:00' } } }] },
      { role: 'model', parts: [{ functionCall: { name: 'get_news', args: { topic: 'rain' } } }] },
      // The id call_0 repeats across turns; the nearest earlier call gives the name.
      { role: 'user', parts: [{ functionResponse: { name: 'get_news', response: { output: 'No news.' } } }] },
    ]);
    expect(body.tools).toEqual([{ functionDeclarations: [{ name: 'get_weather', description: 'Weather', parametersJsonSchema: weather.parameters }] }]);
  });

  it('maps sampling settings and structured output onto generationConfig', () => {
    const schema = { type: 'object', properties: { ok: { type: 'boolean' } } };
    const { body } = toGeminiRequestBody({
      model: 'm',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }],
      maxTokens: 100,
      temperature: 0.3,
      topP: 0.9,
      stop: ['END'],
      seed: 7,
      responseFormat: { type: 'json_schema', name: 'result', schema },
    });
    expect(body.generationConfig).toEqual({ maxOutputTokens: 100, temperature: 0.3, topP: 0.9, stopSequences: ['END'], seed: 7, responseMimeType: 'application/json', responseJsonSchema: schema });
    const jsonObject = toGeminiRequestBody({ model: 'm', messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }], responseFormat: { type: 'json_object' } });
    expect(jsonObject.body.generationConfig).toEqual({ responseMimeType: 'application/json' });
  });

  it.each([
    [{ type: 'auto' } as const, { mode: 'AUTO' }],
    [{ type: 'none' } as const, { mode: 'NONE' }],
    [{ type: 'required' } as const, { mode: 'ANY' }],
    [{ type: 'tool', name: 'get_weather' } as const, { mode: 'ANY', allowedFunctionNames: ['get_weather'] }],
  ])('maps tool choice %j to functionCallingConfig %j', (toolChoice, expected) => {
    const { body } = toGeminiRequestBody({ model: 'm', messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }], tools: [weather], toolChoice });
    expect(body.toolConfig).toEqual({ functionCallingConfig: expected });
  });

  it('warns about every setting it cannot honour instead of dropping it silently', () => {
    const { body, warnings } = toGeminiRequestBody({
      model: 'm',
      messages: [
        { role: 'user', content: [{ type: 'image', url: 'https://example.com/image', detail: 'high' }] },
        { role: 'system', content: 'Late instruction.' },
        { role: 'tool', toolCallId: 'call_unknown', content: 'orphan' },
      ],
      stop: ['a', 'b', 'c', 'd', 'e', 'f'],
      tools: [{ ...weather, strict: true }],
      user: 'user-42',
    });
    expect(body.generationConfig?.stopSequences).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(body.contents[0]?.parts[0]).toEqual({ fileData: { mimeType: 'image/jpeg', fileUri: 'https://example.com/image' } });
    expect(body.systemInstruction).toEqual({ parts: [{ text: 'Late instruction.' }] });
    expect(warnings).toHaveLength(7);
    for (const word of ['detail', 'MIME type', 'system', 'call_unknown', 'stop sequences', 'strict', 'end-user']) {
      expect(warnings.some((warning) => warning.includes(word))).toBe(true);
    }
  });
});

describe('toGeminiRequestBody edge cases', () => {
  it('sends arguments that are not a JSON object as {} with a warning', () => {
    const { body, warnings } = toGeminiRequestBody({
      model: 'm',
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'Hi' }] },
        { role: 'assistant', content: null, toolCalls: [{ id: 'c', name: 'f', arguments: '[1,2]' }] },
      ],
    });
    expect(body.contents[1]).toEqual({ role: 'model', parts: [{ functionCall: { name: 'f', args: {} } }] });
    expect(warnings).toEqual([expect.stringContaining('not a JSON object')]);
  });

  it('re-encodes a percent-encoded data URL as base64', () => {
    const { body } = toGeminiRequestBody({ model: 'm', messages: [{ role: 'user', content: [{ type: 'image', url: 'data:image/svg+xml,%3Csvg%2F%3E' }] }] });
    expect(body.contents[0]?.parts[0]).toEqual({ inlineData: { mimeType: 'image/svg+xml', data: Buffer.from('<svg/>').toString('base64') } });
  });
});

describe('fromGeminiResponse', () => {
  it('separates thoughts from text, synthesizes call ids and adds thought tokens to the completion', () => {
    const response = fromGeminiResponse(
      wire(`{"candidates":[{"content":{"role":"model","parts":[{"text":"Thinking about it.","thought":true},{"text":"Checking "},{"text":"both."},
        {"functionCall":{"name":"get_weather","args":{"city":"Paris"}},"thoughtSignature":"c2ln"},{"functionCall":{"name":"get_weather","args":{"city":"Rome"}}}]},
        "finishReason":"STOP","index":0}],
        "usageMetadata":{"promptTokenCount":40,"candidatesTokenCount":7,"totalTokenCount":59,"thoughtsTokenCount":12,"cachedContentTokenCount":30},
        "modelVersion":"gemini-2.5-flash","responseId":"k3xaZ"}`),
      ['w'],
    );
    expect(response).toEqual({
      upstreamId: 'k3xaZ',
      model: 'gemini-2.5-flash',
      content: 'Checking both.',
      reasoning: 'Thinking about it.',
      toolCalls: [
        { id: 'call_0', name: 'get_weather', arguments: '{"city":"Paris"}' },
        { id: 'call_1', name: 'get_weather', arguments: '{"city":"Rome"}' },
      ],
      finishReason: 'tool_calls',
      rawFinishReason: 'STOP',
      usage: { promptTokens: 40, completionTokens: 19, totalTokens: 59, cachedPromptTokens: 30, reasoningTokens: 12, estimated: false },
      warnings: ['w'],
    });
  });

  it('keeps an id Gemini did send', () => {
    const response = fromGeminiResponse(wire('{"candidates":[{"content":{"parts":[{"functionCall":{"id":"fc-9","name":"f","args":{}}}]},"finishReason":"STOP"}]}'), []);
    expect(response.toolCalls[0]?.id).toBe('fc-9');
  });

  it('maps a blocked prompt (promptFeedback, no candidates) to content_filter', () => {
    const response = fromGeminiResponse(wire('{"promptFeedback":{"blockReason":"PROHIBITED_CONTENT"},"usageMetadata":{"promptTokenCount":8,"totalTokenCount":8}}'), []);
    expect(response).toMatchObject({ content: null, finishReason: 'content_filter', rawFinishReason: 'PROHIBITED_CONTENT' });
    expect(response.usage).toMatchObject({ promptTokens: 8, completionTokens: 0 });
  });

  it('reports no usage when Gemini sent none', () => {
    expect(fromGeminiResponse(wire('{"candidates":[{"content":{"parts":[{"text":"x"}]},"finishReason":"STOP"}]}'), []).usage).toBeNull();
  });

  it.each([
    ['STOP', false, 'stop'],
    ['STOP', true, 'tool_calls'],
    ['MAX_TOKENS', false, 'length'],
    ['SAFETY', false, 'content_filter'],
    ['RECITATION', false, 'content_filter'],
    ['IMAGE_SAFETY', false, 'content_filter'],
    ['MALFORMED_FUNCTION_CALL', false, 'error'],
    ['OTHER', false, 'error'],
    ['FINISH_REASON_UNSPECIFIED', false, 'error'],
    ['SOMETHING_NEW', false, 'error'],
  ] as const)('maps finishReason %s (tool calls: %s) to %s', (raw, hasToolCalls, expected) => {
    expect(mapGeminiFinishReason(raw, hasToolCalls)).toBe(expected);
  });
});

describe('GeminiStreamMapper', () => {
  it('emits deltas per fragment and finishes with the last usage', () => {
    const mapper = new GeminiStreamMapper();
    const events = [
      ...mapper.map(wire('{"candidates":[{"content":{"role":"model","parts":[{"text":"Plan.","thought":true}]},"index":0}],"usageMetadata":{"promptTokenCount":40,"totalTokenCount":40}}')),
      ...mapper.map(wire('{"candidates":[{"content":{"role":"model","parts":[{"text":"Let me check"}]},"index":0}],"usageMetadata":{"promptTokenCount":40,"totalTokenCount":40}}')),
      ...mapper.map(wire('{"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"get_weather","args":{"city":"Paris"}}}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":40,"candidatesTokenCount":14,"thoughtsTokenCount":3,"totalTokenCount":57}}')),
    ];
    expect(events).toEqual([
      { type: 'reasoning-delta', text: 'Plan.' },
      { type: 'text-delta', text: 'Let me check' },
      { type: 'tool-call-delta', index: 0, id: 'call_0', name: 'get_weather', argumentsDelta: '{"city":"Paris"}' },
    ]);
    expect(mapper.end()).toEqual({
      type: 'finish',
      finishReason: 'tool_calls',
      rawFinishReason: 'STOP',
      usage: { promptTokens: 40, completionTokens: 17, totalTokens: 57, cachedPromptTokens: 0, reasoningTokens: 3, estimated: false },
    });
  });

  it('has no finish for a stream that stopped before a finish reason', () => {
    const mapper = new GeminiStreamMapper();
    mapper.map(wire('{"candidates":[{"content":{"parts":[{"text":"Half"}]}}]}'));
    expect(mapper.end()).toBeUndefined();
  });

  it('finishes a blocked prompt as content_filter', () => {
    const mapper = new GeminiStreamMapper();
    expect(mapper.map(wire('{"promptFeedback":{"blockReason":"SAFETY"}}'))).toEqual([]);
    expect(mapper.end()).toMatchObject({ finishReason: 'content_filter', rawFinishReason: 'SAFETY', usage: null });
  });
});

describe('describeGeminiError', () => {
  it('recognises a bad key by its reason, whatever the status', () => {
    const described = describeGeminiError(400, {
      error: { code: 400, message: 'API key not valid. Please pass a valid API key.', status: 'INVALID_ARGUMENT', details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID' }] },
    });
    expect(described).toEqual({ message: 'API key not valid. Please pass a valid API key.', kind: 'authentication', upstreamCode: 'API_KEY_INVALID' });
  });

  it('treats a missing key (403 unregistered callers) as authentication and other 403s as permission', () => {
    expect(describeGeminiError(403, { error: { code: 403, message: "Method doesn't allow unregistered callers (callers without established identity).", status: 'PERMISSION_DENIED' } }).kind).toBe('authentication');
    expect(describeGeminiError(403, { error: { code: 403, message: 'The caller does not have permission', status: 'PERMISSION_DENIED' } }).kind).toBe('permission');
  });

  it('reads the retry delay from RetryInfo in the body', () => {
    const described = describeGeminiError(429, {
      error: { code: 429, message: 'Quota exceeded', status: 'RESOURCE_EXHAUSTED', details: [{ '@type': 'type.googleapis.com/google.rpc.QuotaFailure' }, { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '31s' }] },
    });
    expect(described).toMatchObject({ kind: 'rate_limited', upstreamCode: 'RESOURCE_EXHAUSTED', retryAfterMs: 31_000 });
    expect(parseGoogleDurationMs('1.5s')).toBe(1500);
    expect(parseGoogleDurationMs('soon')).toBeUndefined();
  });

  it.each([
    [400, { error: { code: 400, message: 'The input token count (1300000) exceeds the maximum number of tokens allowed (1048576).', status: 'INVALID_ARGUMENT' } }, 'context_length_exceeded'],
    [503, { error: { code: 503, message: 'The model is overloaded.', status: 'UNAVAILABLE' } }, 'overloaded'],
    [504, { error: { code: 504, message: 'Deadline expired.', status: 'DEADLINE_EXCEEDED' } }, 'timeout'],
    [500, [{ error: { code: 500, message: 'Internal error.', status: 'INTERNAL' } }], 'server_error'],
  ])('maps a %i %j to %s', (status, body, kind) => {
    expect(describeGeminiError(status, body).kind).toBe(kind);
  });

  it('keeps a non-JSON error body as the message, leaving the kind to the status', () => {
    expect(describeGeminiError(502, '<html>Bad Gateway</html>')).toEqual({ message: '<html>Bad Gateway</html>' });
  });
});

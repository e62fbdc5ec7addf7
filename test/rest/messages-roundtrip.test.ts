import { describe, expect, it } from 'vitest';
import { openAIQuirks } from '../../src/providers/openai/quirks.js';
import { openRouterQuirks } from '../../src/providers/openai-compatible/quirks.js';
import { toAnthropicRequestBody } from '../../src/providers/anthropic/request.js';
import { toGeminiRequestBody } from '../../src/providers/gemini/request.js';
import { toOpenAIRequestBody } from '../../src/providers/openai/request.js';
import type { CompletionRequest } from '../../src/providers/types.js';
import { parseMessagesRequest } from '../../src/rest/messages-request.js';

/**
 * A Messages body mapped onto the normalized request (src/rest/messages-request.ts) and back onto the Anthropic
 * wire (src/providers/anthropic/request.ts) must deep-equal what was sent: cache breakpoints on system, message and
 * tool blocks, thinking with its signature, redacted thinking, and the order of every block. A body in canonical
 * form (blocks everywhere; a string is the same as one text block) is used, with every block kind in it.
 */
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=';

function everyBlockKind() {
  return {
    model: 'claude-sonnet-4-6',
    max_tokens: 2048,
    system: [
      { type: 'text', text: 'You are terse.' },
      { type: 'text', text: 'A long shared context worth caching for an hour.', cache_control: { type: 'ephemeral', ttl: '1h' } },
    ],
    messages: [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Look at these.', cache_control: { type: 'ephemeral' } },
          { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
          { type: 'image', source: { type: 'url', url: 'https://example.com/cat.png' }, cache_control: { type: 'ephemeral', ttl: '5m' } },
        ],
      },
      {
        role: 'assistant',
        content: [
          { type: 'thinking', thinking: 'They want the weather and the time.', signature: 'c2lnLTE=' },
          { type: 'redacted_thinking', data: 'RU5DUllQVEVE' },
          { type: 'text', text: 'Checking the weather.' },
          { type: 'tool_use', id: 'toolu_01', name: 'get_weather', input: { city: 'Paris', units: { temperature: 'C' } }, cache_control: { type: 'ephemeral' } },
          { type: 'text', text: 'And the time.' },
          { type: 'tool_use', id: 'toolu_02', name: 'get_time', input: {} },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_01', content: 'Sunny, 21°C', cache_control: { type: 'ephemeral' } },
          { type: 'tool_result', tool_use_id: 'toolu_02', content: 'clock unavailable', is_error: true },
          { type: 'text', text: 'Thanks. Anything else?' },
        ],
      },
      { role: 'assistant', content: [{ type: 'text', text: 'No.' }] },
      { role: 'user', content: [{ type: 'text', text: 'Bye.' }] },
    ],
    tools: [
      { name: 'get_weather', description: 'Weather for a city', input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
      { name: 'get_time', input_schema: { type: 'object', properties: {} }, cache_control: { type: 'ephemeral', ttl: '1h' } },
    ],
    tool_choice: { type: 'any' },
    stop_sequences: ['END'],
    temperature: 0.5,
    top_p: 0.9,
    metadata: { user_id: 'user-42' },
    thinking: { type: 'enabled', budget_tokens: 1024 },
    stream: true,
  };
}

function providerRequest(body: unknown): CompletionRequest {
  const { input } = parseMessagesRequest(body);
  const { model: _catalogModel, models: _fallbacks, metadata: _metadata, provider: _preferences, ...request } = input;
  return { ...request, model: 'claude-sonnet-4-6' };
}

describe('Messages body -> normalized -> Anthropic wire', () => {
  it('deep-equals the original for a body with every block kind', () => {
    const body = everyBlockKind();
    const { body: wire, warnings } = toAnthropicRequestBody(providerRequest(body), { provider: 'anthropic', stream: true });
    expect(wire).toStrictEqual(body);
    expect(warnings).toEqual([]);
  });

  it('would notice a lost breakpoint, signature or block order (the comparison is not vacuous)', () => {
    const body = everyBlockKind();
    const request = providerRequest(body);
    const assistant = request.messages.find((message) => message.role === 'assistant');
    if (assistant?.role !== 'assistant' || assistant.parts === undefined) throw new Error('no ordered assistant turn');
    // Block order only lives in `parts`: without it, the flattened content comes back in another order and joined.
    const flattened = { ...request, messages: request.messages.map((message) => (message === assistant ? { ...assistant, parts: undefined } : message)) };
    expect(toAnthropicRequestBody(flattened, { provider: 'anthropic', stream: true }).body).not.toStrictEqual(body);
    const tool = request.tools?.[1];
    if (tool === undefined) throw new Error('no second tool');
    const uncached = { ...request, tools: [request.tools![0]!, { ...tool, cacheControl: undefined }] };
    expect(toAnthropicRequestBody(uncached, { provider: 'anthropic', stream: true }).body).not.toStrictEqual(body);
  });

  it('a system prompt without breakpoints stays a string, and string content becomes one text block', () => {
    const body = { model: 'claude-sonnet-4-6', max_tokens: 10, system: 'Be brief.', messages: [{ role: 'user', content: 'Hi' }] };
    expect(toAnthropicRequestBody(providerRequest(body), { provider: 'anthropic', stream: false }).body).toStrictEqual({
      model: 'claude-sonnet-4-6',
      max_tokens: 10,
      system: 'Be brief.',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }],
    });
  });

  it('signed thinking from another provider cannot be replayed to Anthropic: it is dropped with a warning', () => {
    const body = {
      model: 'claude-sonnet-4-6',
      max_tokens: 10,
      messages: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: [{ type: 'thinking', thinking: 'Hmm.', signature: '' }, { type: 'text', text: 'Hello.' }] },
        { role: 'user', content: 'Again' },
      ],
    };
    const { body: wire, warnings } = toAnthropicRequestBody(providerRequest(body), { provider: 'anthropic', stream: false });
    expect(wire.messages[1]).toEqual({ role: 'assistant', content: [{ type: 'text', text: 'Hello.' }] });
    expect(warnings.join(' ')).toContain('signature');
  });

  it('on Chat Completions, breakpoints travel on content parts for OpenRouter and are left out for OpenAI', () => {
    const request = providerRequest(everyBlockKind());
    const openRouter = JSON.stringify(toOpenAIRequestBody(request, { stream: false, quirks: openRouterQuirks, providerName: 'OpenRouter' }).body);
    const openAI = toOpenAIRequestBody(request, { stream: false, quirks: openAIQuirks, providerName: 'OpenAI' }).body;
    // System, the user's text and URL image, and the tool result: content the Chat Completions wire has parts for.
    expect(openRouter.match(/"cache_control"/g)).toHaveLength(4);
    expect(openRouter).toContain('{"type":"text","text":"A long shared context worth caching for an hour.","cache_control":{"type":"ephemeral","ttl":"1h"}}');
    expect(JSON.stringify(openAI)).not.toContain('cache_control');
    expect(openAI.messages[0]).toEqual({ role: 'system', content: 'You are terse.' });
  });

  it('thinking: a budget goes to Anthropic and Gemini as given, adaptive as each spells it, and OpenAI warns', () => {
    const base = { model: 'claude-sonnet-4-6', max_tokens: 4096, messages: [{ role: 'user', content: 'Hi' }] };
    const budget = providerRequest({ ...base, thinking: { type: 'enabled', budget_tokens: 2048 } });
    const adaptive = providerRequest({ ...base, thinking: { type: 'adaptive' } });
    expect(toAnthropicRequestBody(budget, { provider: 'anthropic', stream: false }).body.thinking).toEqual({ type: 'enabled', budget_tokens: 2048 });
    expect(toAnthropicRequestBody(adaptive, { provider: 'anthropic', stream: false }).body.thinking).toEqual({ type: 'adaptive' });
    expect(toGeminiRequestBody(budget).body.generationConfig?.thinkingConfig).toEqual({ thinkingBudget: 2048 });
    expect(toGeminiRequestBody(adaptive).body.generationConfig?.thinkingConfig).toEqual({ thinkingBudget: -1 });
    expect(toOpenAIRequestBody(budget, { stream: false, quirks: openAIQuirks, providerName: 'OpenAI' }).warnings.join(' ')).toContain('thinking budget');
    expect(() => parseMessagesRequest({ ...base, thinking: { type: 'enabled', budget_tokens: 0 } })).toThrow(/thinking\.budget_tokens/);
  });
});

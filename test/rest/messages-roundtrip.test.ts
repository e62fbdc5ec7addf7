import fc from 'fast-check';
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

  it('holds for any body in canonical form (fast-check)', () => {
    const word = fc.stringMatching(/^[A-Za-z][A-Za-z0-9 ]{0,11}$/);
    const cache = fc.option(fc.constantFrom({ type: 'ephemeral' }, { type: 'ephemeral', ttl: '5m' }, { type: 'ephemeral', ttl: '1h' }), { nil: undefined });
    const withCache = <T extends object>(block: T, control: object | undefined): T => (control === undefined ? block : { ...block, cache_control: control });
    const text = fc.tuple(word, cache).map(([value, control]) => withCache({ type: 'text', text: value }, control));
    const image = fc.tuple(fc.oneof(fc.constant({ type: 'base64', media_type: 'image/png', data: PNG }), fc.constant({ type: 'url', url: 'https://example.com/a.png' })), cache).map(([source, control]) => withCache({ type: 'image', source }, control));
    const toolResult = fc.tuple(fc.nat(5), fc.string({ maxLength: 12 }), fc.boolean(), cache).map(([id, content, isError, control]) =>
      withCache({ type: 'tool_result', tool_use_id: `toolu_${id}`, content, ...(isError ? { is_error: true } : {}) }, control),
    );
    const input = fc.dictionary(fc.stringMatching(/^[a-z]{1,6}$/), fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.boolean(), fc.constant(null)), { maxKeys: 3 }).map((entries) => ({ ...entries }));
    const toolUse = fc.tuple(fc.constantFrom('get_weather', 'get_time'), input, cache).map(([name, value, control]) => withCache({ type: 'tool_use', id: '', name, input: value }, control));
    const thinking = fc.tuple(fc.string({ maxLength: 20 }), fc.stringMatching(/^[A-Za-z0-9+/]{4,12}=?$/)).map(([value, signature]) => ({ type: 'thinking', thinking: value, signature }));
    const redacted = fc.stringMatching(/^[A-Za-z0-9]{4,12}$/).map((data) => ({ type: 'redacted_thinking', data }));
    const userTurn = fc.array(fc.oneof(text, image, toolResult), { minLength: 1, maxLength: 4 }).map((content) => ({ role: 'user', content }));
    const assistantTurn = fc.array(fc.oneof(text, toolUse, thinking, redacted), { minLength: 1, maxLength: 5 }).map((content) => ({ role: 'assistant', content }));
    const system = fc.option(
      fc.oneof(
        word,
        fc.array(text, { minLength: 1, maxLength: 3 }).map((blocks) => [...blocks.slice(0, -1), { ...blocks.at(-1)!, cache_control: { type: 'ephemeral' } }]),
      ),
      { nil: undefined },
    );
    const tool = fc.tuple(fc.constantFrom('get_weather', 'get_time', 'lookup'), cache).map(([name, control]) => withCache({ name, input_schema: { type: 'object', properties: {} } }, control));
    const body = fc
      .record({
        turns: fc.array(fc.tuple(userTurn, assistantTurn), { minLength: 1, maxLength: 3 }),
        last: userTurn,
        system,
        tools: fc.option(fc.uniqueArray(tool, { minLength: 1, maxLength: 3, selector: (entry) => entry.name }), { nil: undefined }),
        maxTokens: fc.integer({ min: 1, max: 100_000 }),
      })
      .map(({ turns, last, system: prompt, tools, maxTokens }) => {
        // Tool-use ids unique across the body, as the API requires.
        let next = 0;
        const messages = [...turns.flatMap(([user, assistant]) => [user, assistant]), last].map((turn) => ({
          ...turn,
          content: turn.content.map((block) => (block.type === 'tool_use' ? { ...block, id: `toolu_call_${next++}` } : block)),
        }));
        return {
          model: 'claude-sonnet-4-6',
          max_tokens: maxTokens,
          messages,
          ...(prompt !== undefined ? { system: prompt } : {}),
          ...(tools !== undefined ? { tools } : {}),
        };
      });
    fc.assert(
      fc.property(body, (original) => {
        const { body: wire, warnings } = toAnthropicRequestBody(providerRequest(original), { provider: 'anthropic', stream: false });
        expect(wire).toStrictEqual(original);
        expect(warnings).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});

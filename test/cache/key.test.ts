import { describe, expect, it } from 'vitest';
import { requestCacheKey, stableJson } from '../../src/cache/key.js';
import { PER_REQUEST_FIELDS } from '../../src/cache/response-cache.js';
import type { CompletionInput } from '../../src/completions/types.js';

const base: CompletionInput = { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }], temperature: 0.5 };
const key = (input: object, scope = 'global'): string => requestCacheKey(scope, input, PER_REQUEST_FIELDS);

describe('the cache key', () => {
  it('does not depend on the order fields were written in, nor on fields spelled absent', () => {
    expect(stableJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: undefined } })).toBe('{"a":{"d":[1,{"x":1,"y":2}]},"b":1}');
    expect(key({ temperature: 0.5, messages: base.messages, model: base.model, seed: undefined })).toBe(key(base));
  });

  it('changes with every field of the request, including ones the normalized request gains later', () => {
    const keys = new Set([
      key(base),
      key({ ...base, temperature: 0.6 }),
      key({ ...base, model: 'openai/gpt-4o' }),
      key({ ...base, tools: [{ name: 'f', parameters: {} }] }),
      key({ ...base, responseFormat: { type: 'json_object' } }),
      key({ ...base, messages: [{ role: 'user', content: [{ type: 'text', text: 'hi!' }] }] }),
      // A field no code here knows of (as a provider's cache_control would be) still changes the key.
      key({ ...base, cacheControl: { type: 'ephemeral' } }),
      key(base, 'key:key_a'),
      key(base, 'key:key_b'),
    ]);
    expect(keys.size).toBe(9);
  });

  it('leaves out only what does not change the answer: metadata and the cache settings themselves', () => {
    expect(key({ ...base, metadata: { run: 7 }, cache: { ttlSeconds: 5, bypass: true } })).toBe(key(base));
    expect(key({ ...base, user: 'someone' })).not.toBe(key(base));
  });

  it('keeps the array order that gives messages their meaning', () => {
    const two: CompletionInput = { ...base, messages: [{ role: 'system', content: 'a' }, { role: 'user', content: [{ type: 'text', text: 'b' }] }] };
    const swapped: CompletionInput = { ...base, messages: [...two.messages].reverse() };
    expect(key(two)).not.toBe(key(swapped));
  });
});

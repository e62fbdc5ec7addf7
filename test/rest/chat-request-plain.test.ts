import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chatCompletionRequestSchema, parsePlainChatRequest } from '../../src/rest/chat-request.js';

/** Values a field may hold in a generated body: right ones, wrong types, bounds and just past them. */
const anyValue = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.boolean(),
  fc.string({ maxLength: 8 }),
  fc.constantFrom(0, -1, 0.5, 1, 1.5, 2, 2.0001, 3, 4096, 1e21, -0, Number.MAX_SAFE_INTEGER),
  fc.double({ noNaN: false }),
  fc.integer({ min: -5, max: 5000 }),
  fc.constant({}),
  fc.constant([]),
);

const message = fc.oneof(
  fc.record({ role: fc.constantFrom('system', 'developer', 'user', 'assistant'), content: fc.string({ maxLength: 20 }) }),
  fc.record({ role: fc.constantFrom('system', 'user', 'assistant', 'tool', 'function', 'nobody', ''), content: anyValue }, { requiredKeys: [] }),
  fc.record({ role: fc.constant('user'), content: fc.string(), name: fc.string() }),
  fc.record({ role: fc.constant('user'), content: fc.constant([{ type: 'text', text: 'hi' }]) }),
  fc.record({ role: fc.constant('assistant'), content: fc.constant(null), tool_calls: fc.constant([]) }),
  anyValue,
);

const body = fc.record(
  {
    model: fc.oneof(fc.constantFrom('openai/gpt-4o-mini', 'local/echo', ''), anyValue),
    messages: fc.oneof(fc.array(message, { maxLength: 4 }), anyValue),
    stream: anyValue,
    temperature: anyValue,
    top_p: anyValue,
    max_tokens: anyValue,
    max_completion_tokens: anyValue,
    seed: anyValue,
    user: anyValue,
    tools: fc.constant([]),
    n: anyValue,
  },
  { requiredKeys: [] },
);

/** Mostly plain requests, each field now and then replaced by any value: near the fast path's edges. */
const sometimes = <T>(value: fc.Arbitrary<T>) => fc.oneof({ arbitrary: value, weight: 4 }, { arbitrary: anyValue, weight: 1 });
const plainBody = fc.record(
  {
    model: sometimes(fc.constantFrom('openai/gpt-4o-mini', 'local/echo')),
    messages: sometimes(fc.array(fc.oneof({ arbitrary: message, weight: 1 }, { arbitrary: fc.record({ role: fc.constantFrom('system', 'user', 'assistant'), content: fc.string() }), weight: 6 }), { maxLength: 3 })),
    stream: sometimes(fc.boolean()),
    temperature: sometimes(fc.double({ min: 0, max: 2, noNaN: true })),
    top_p: sometimes(fc.double({ min: 0, max: 1, noNaN: true })),
    max_tokens: sometimes(fc.integer({ min: 1, max: 10_000 })),
    max_completion_tokens: sometimes(fc.integer({ min: 1, max: 10_000 })),
    seed: sometimes(fc.integer()),
    user: sometimes(fc.string()),
  },
  { requiredKeys: ['model', 'messages'] },
);

/** A JSON round trip: what the REST facade hands the parser is always parsed JSON. */
function asJson(value: unknown): unknown {
  const text = JSON.stringify(value);
  return text === undefined ? undefined : (JSON.parse(text) as unknown);
}

describe('the plain chat request fast path', () => {
  it('accepts only what the schema accepts, and returns exactly what the schema returns', () => {
    let taken = 0;
    fc.assert(
      fc.property(fc.oneof(body, plainBody), (generated) => {
        const raw = asJson(generated);
        const fast = parsePlainChatRequest(raw);
        const schema = chatCompletionRequestSchema.safeParse(raw);
        if (fast !== undefined) {
          taken++;
          expect(schema.success).toBe(true);
          expect(fast).toEqual(schema.data);
        }
      }),
      { numRuns: 3000 },
    );
    // The generator reaches the fast path often enough for the comparison to mean something.
    expect(taken).toBeGreaterThan(30);
  });

  it('takes the requests clients send most', () => {
    const raw = { model: 'openai/gpt-4o-mini', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello' }], stream: true, temperature: 0.2, max_tokens: 64 };
    expect(parsePlainChatRequest(raw)).toEqual(chatCompletionRequestSchema.parse(raw));
  });

  it('leaves anything it does not fully check to the schema', () => {
    const base = { model: 'm', messages: [{ role: 'user', content: 'x' }] };
    for (const raw of [
      { ...base, tools: [] },
      { ...base, messages: [{ role: 'user', content: 'x', name: 'n' }] },
      { ...base, messages: [{ role: 'tool', content: 'x', tool_call_id: 't' }] },
      { ...base, temperature: 2.5 },
      { ...base, max_tokens: 0 },
      { ...base, max_tokens: 1.5 },
      { ...base, seed: 'x' },
      { ...base, model: '' },
      [base],
      null,
    ]) {
      expect(parsePlainChatRequest(raw)).toBeUndefined();
    }
  });
});

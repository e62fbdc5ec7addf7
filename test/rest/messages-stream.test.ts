import { describe, expect, it } from 'vitest';
import type { CompletionEvent, PricedUsage } from '../../src/completions/types.js';
import { AnthropicStreamMapper } from '../../src/providers/anthropic/stream.js';
import { streamEventSchema } from '../../src/providers/anthropic/wire.js';
import { contentBlocks } from '../../src/rest/messages-response.js';
import { MessagesEventWriter } from '../../src/rest/messages-stream.js';

/**
 * The Messages event writer: the service streams fragments without block boundaries, and the writer must open a
 * block when the kind of fragment changes, give each block the next index, close every block it opened, and end
 * with message_delta (stop reason, usage) and message_stop.
 */
type Delta = Extract<CompletionEvent, { type: 'delta' }>;

function delta(fields: Partial<Delta>): Delta {
  return { type: 'delta', id: 'gen_1', text: '', reasoning: '', toolCalls: [], ...fields };
}

function events(sse: string): Array<{ event: string; data: Record<string, unknown> }> {
  return sse
    .split('\n\n')
    .filter((frame) => frame !== '')
    .map((frame) => {
      const [eventLine, dataLine] = frame.split('\n');
      const data = JSON.parse(dataLine!.slice('data: '.length)) as Record<string, unknown>;
      const event = eventLine!.slice('event: '.length);
      // The SSE event name and the payload's type are always the same.
      expect(data['type']).toBe(event);
      return { event, data };
    });
}

const usage: PricedUsage = { promptTokens: 1_100, completionTokens: 40, totalTokens: 1_140, cachedPromptTokens: 1_000, reasoningTokens: 10, estimated: false, costPicos: 123_000 };

describe('MessagesEventWriter', () => {
  it('opens, indexes and closes one block per kind of fragment, in order', () => {
    const writer = new MessagesEventWriter('gen_1', 'anthropic/claude-sonnet-4-6');
    let sse = writer.start();
    sse += writer.delta(delta({ reasoning: 'Think' }));
    sse += writer.delta(delta({ reasoning: 'ing.' }));
    sse += writer.delta(delta({ reasoningSignature: 'sig' }));
    sse += writer.delta(delta({ redactedReasoning: 'ENC' }));
    sse += writer.delta(delta({ text: 'Two calls:' }));
    sse += writer.delta(delta({ toolCalls: [{ index: 0, id: 'toolu_a', name: 'a', argumentsDelta: '' }] }));
    sse += writer.delta(delta({ toolCalls: [{ index: 0, argumentsDelta: '{"x":' }] }));
    sse += writer.delta(delta({ toolCalls: [{ index: 0, argumentsDelta: '1}' }] }));
    sse += writer.delta(delta({ toolCalls: [{ index: 1, id: 'toolu_b', name: 'b', argumentsDelta: '{}' }] }));
    sse += writer.done({ type: 'done', id: 'gen_1', finishReason: 'tool_calls', rawFinishReason: 'tool_use', usage, latencyMs: 5 });
    const parsed = events(sse);
    expect(parsed.map(({ event, data }) => `${event}${'index' in data ? `#${String(data['index'])}` : ''}`)).toEqual([
      'message_start',
      'ping',
      'content_block_start#0',
      'content_block_delta#0',
      'content_block_delta#0',
      'content_block_delta#0',
      'content_block_stop#0',
      'content_block_start#1',
      'content_block_stop#1',
      'content_block_start#2',
      'content_block_delta#2',
      'content_block_stop#2',
      'content_block_start#3',
      'content_block_delta#3',
      'content_block_delta#3',
      'content_block_stop#3',
      'content_block_start#4',
      'content_block_delta#4',
      'content_block_stop#4',
      'message_delta',
      'message_stop',
    ]);
    expect(parsed[5]!.data['delta']).toEqual({ type: 'signature_delta', signature: 'sig' });
    expect(parsed[7]!.data['content_block']).toEqual({ type: 'redacted_thinking', data: 'ENC' });
    expect(parsed[12]!.data['content_block']).toEqual({ type: 'tool_use', id: 'toolu_a', name: 'a', input: {} });
    expect(parsed[19]!.data).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'tool_use', stop_sequence: null },
      usage: {
        input_tokens: 100,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 1_000,
        cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
        output_tokens: 40,
        cost_usd: 0.000000123,
      },
    });
  });

  it('an empty delta writes nothing, and a message with no blocks closes none', () => {
    const writer = new MessagesEventWriter('gen_2', 'm');
    writer.start();
    expect(writer.delta(delta({}))).toBe('');
    expect(events(writer.done({ type: 'done', id: 'gen_2', finishReason: 'length', rawFinishReason: 'length', usage, latencyMs: 1 })).map(({ event }) => event)).toEqual(['message_delta', 'message_stop']);
  });
});

describe('Anthropic stream mapper', () => {
  it('passes a redacted_thinking block on whole, and the signature closing a thinking block', () => {
    const mapper = new AnthropicStreamMapper({ provider: 'anthropic', warnings: [] });
    const wire = [
      { type: 'message_start', message: { id: 'msg_1', model: 'claude', usage: { input_tokens: 5, output_tokens: 1 } } },
      { type: 'content_block_start', index: 0, content_block: { type: 'redacted_thinking', data: 'ENC' } },
      { type: 'content_block_stop', index: 0 },
      { type: 'content_block_start', index: 1, content_block: { type: 'thinking', thinking: '', signature: '' } },
      { type: 'content_block_delta', index: 1, delta: { type: 'thinking_delta', thinking: 'Hm.' } },
      { type: 'content_block_delta', index: 1, delta: { type: 'signature_delta', signature: 'sig' } },
      { type: 'content_block_stop', index: 1 },
    ];
    expect(wire.flatMap((event) => mapper.map(streamEventSchema.parse(event)))).toEqual([
      { type: 'start', upstreamId: 'msg_1', model: 'claude', warnings: [] },
      { type: 'redacted-reasoning', data: 'ENC' },
      { type: 'reasoning-delta', text: 'Hm.' },
      { type: 'reasoning-signature', signature: 'sig' },
    ]);
  });
});

describe('the answer’s content blocks', () => {
  it('follow the provider’s order when it gave one, else reasoning, text, calls; unparsable arguments become {} and a warning', () => {
    const warnings: string[] = [];
    const calls = [
      { id: 'c1', name: 'a', arguments: '{"x":1}' },
      { id: 'c2', name: 'b', arguments: '[1,2]' },
      { id: 'c3', name: 'c', arguments: '{"cut' },
    ];
    expect(contentBlocks({ content: 'Hi', reasoning: 'Hm', toolCalls: calls }, warnings)).toEqual([
      { type: 'thinking', thinking: 'Hm', signature: '' },
      { type: 'text', text: 'Hi' },
      { type: 'tool_use', id: 'c1', name: 'a', input: { x: 1 } },
      { type: 'tool_use', id: 'c2', name: 'b', input: {} },
      { type: 'tool_use', id: 'c3', name: 'c', input: {} },
    ]);
    expect(warnings).toHaveLength(2);
    const ordered = contentBlocks(
      { content: 'Hi', reasoning: 'Hm', toolCalls: calls.slice(0, 1), parts: [{ type: 'tool-call', id: 'c1' }, { type: 'thinking', text: 'Hm', signature: 's' }, { type: 'text', text: 'Hi' }] },
      [],
    );
    expect(ordered.map((block) => block.type)).toEqual(['tool_use', 'thinking', 'text']);
  });
});

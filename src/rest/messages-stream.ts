import type { CompletionEvent } from '../completions/types.js';
import type { AnthropicErrorBody } from './messages-errors.js';
import { messageId, messagesStopReason, messagesUsage } from './messages-response.js';

/**
 * Anthropic's named SSE events for one streamed message: message_start, a ping, then per block content_block_start,
 * its deltas (text_delta, thinking_delta then signature_delta, input_json_delta) and content_block_stop, then
 * message_delta with the stop reason and usage, and message_stop. The service streams text, reasoning and tool
 * call fragments without block boundaries, so a block opens when the kind of fragment changes (or a new tool call
 * starts) and closes when the next one opens or the message ends.
 */

type OpenBlock = { kind: 'text' } | { kind: 'thinking' } | { kind: 'tool'; toolIndex: number };

function sse(type: string, data: Record<string, unknown>): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
}

export class MessagesEventWriter {
  private open: OpenBlock | undefined;
  private index = -1;

  constructor(
    private readonly generationId: string,
    private readonly model: string,
  ) {}

  /** message_start and a first ping. Input counts are not known before the end: message_delta carries them. */
  start(): string {
    const message = {
      id: messageId(this.generationId),
      type: 'message',
      role: 'assistant',
      model: this.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 0 },
    };
    return sse('message_start', { message }) + sse('ping', {});
  }

  private close(): string {
    if (this.open === undefined) return '';
    this.open = undefined;
    return sse('content_block_stop', { index: this.index });
  }

  private openBlock(block: OpenBlock, contentBlock: Record<string, unknown>): string {
    const closed = this.close();
    this.open = block;
    this.index++;
    return closed + sse('content_block_start', { index: this.index, content_block: contentBlock });
  }

  delta(event: Extract<CompletionEvent, { type: 'delta' }>): string {
    let out = '';
    if (event.reasoning !== '') {
      if (this.open?.kind !== 'thinking') out += this.openBlock({ kind: 'thinking' }, { type: 'thinking', thinking: '', signature: '' });
      out += sse('content_block_delta', { index: this.index, delta: { type: 'thinking_delta', thinking: event.reasoning } });
    }
    if (event.reasoningSignature !== undefined) {
      if (this.open?.kind !== 'thinking') out += this.openBlock({ kind: 'thinking' }, { type: 'thinking', thinking: '', signature: '' });
      // The signature ends its thinking block, as Anthropic sends it.
      out += sse('content_block_delta', { index: this.index, delta: { type: 'signature_delta', signature: event.reasoningSignature } }) + this.close();
    }
    if (event.redactedReasoning !== undefined) {
      // Whole in its start event, as Anthropic sends it: there is nothing to stream.
      out += this.openBlock({ kind: 'thinking' }, { type: 'redacted_thinking', data: event.redactedReasoning }) + this.close();
    }
    if (event.text !== '') {
      if (this.open?.kind !== 'text') out += this.openBlock({ kind: 'text' }, { type: 'text', text: '' });
      out += sse('content_block_delta', { index: this.index, delta: { type: 'text_delta', text: event.text } });
    }
    for (const call of event.toolCalls) {
      const current = this.open;
      if (call.id !== undefined || current?.kind !== 'tool' || current.toolIndex !== call.index) {
        out += this.openBlock({ kind: 'tool', toolIndex: call.index }, { type: 'tool_use', id: call.id ?? `toolu_${this.generationId}_${call.index}`, name: call.name ?? '', input: {} });
      }
      if (call.argumentsDelta !== '') out += sse('content_block_delta', { index: this.index, delta: { type: 'input_json_delta', partial_json: call.argumentsDelta } });
    }
    return out;
  }

  done(event: Extract<CompletionEvent, { type: 'done' }>): string {
    const usage = messagesUsage(event.usage);
    return (
      this.close() +
      sse('message_delta', { delta: { stop_reason: messagesStopReason(event.finishReason, event.rawFinishReason), stop_sequence: null }, usage }) +
      sse('message_stop', {})
    );
  }

  /** Anthropic's in-band failure: an `error` event, after which the stream closes. */
  failed(body: AnthropicErrorBody): string {
    return sse('error', { error: body.error });
  }
}

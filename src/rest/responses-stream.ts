import type { CompletionEvent, ToolCallDelta } from '../completions/types.js';
import type { OpenAIErrorBody } from './errors.js';
import {
  functionCallItemId,
  messageItemId,
  outputText,
  responseObject,
  responsesUsage,
  statusOf,
  type FunctionCallItem,
  type MessageItem,
  type OutputItem,
  type ResponseEcho,
  type ResponseObject,
} from './responses-response.js';

/**
 * Writes one completion stream as the Responses API's named SSE events (wire-formats.md 1b): `event:` equals
 * `data.type`, every event carries the next `sequence_number`, and there is no [DONE]. Items open when their first
 * delta arrives and close, in output order, when the answer ends, so a text that follows a call still has a home.
 */

interface OpenCall {
  item: FunctionCallItem;
  outputIndex: number;
}

export class ResponsesEventWriter {
  private sequence = 0;
  private readonly output: OutputItem[] = [];
  private message: { item: MessageItem; outputIndex: number; text: string } | undefined;
  /** Calls by the stream's call index, which is not their output index once a message came first. */
  private readonly calls = new Map<number, OpenCall>();
  private readonly generationId: string;
  private readonly model: string;

  constructor(
    private readonly echo: ResponseEcho,
    started: Extract<CompletionEvent, { type: 'started' }>,
    model: string,
    private readonly createdAt: number,
  ) {
    this.generationId = started.id;
    this.model = model;
  }

  private event(type: string, fields: Record<string, unknown>): string {
    const data = { type, sequence_number: this.sequence++, ...fields };
    return `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
  }

  private snapshot(status: ResponseObject['status'], extra: Partial<Parameters<typeof responseObject>[1]> = {}): ResponseObject {
    return responseObject(this.echo, { generationId: this.generationId, createdAt: this.createdAt, model: this.model, status, output: this.output, usage: null, ...extra });
  }

  /** response.created and response.in_progress, with no output yet. */
  open(): string {
    const response = this.snapshot('in_progress', { output: [] });
    return this.event('response.created', { response }) + this.event('response.in_progress', { response });
  }

  /** The events one delta makes: items opened on first sight, then their text or argument deltas. */
  delta(event: Extract<CompletionEvent, { type: 'delta' }>): string {
    let out = '';
    if (event.text !== '') out += this.text(event.text);
    for (const call of event.toolCalls) out += this.call(call);
    return out;
  }

  private text(delta: string): string {
    let out = '';
    if (!this.message) {
      const item: MessageItem = { type: 'message', id: messageItemId(this.generationId), status: 'in_progress', role: 'assistant', content: [] };
      this.message = { item, outputIndex: this.output.length, text: '' };
      this.output.push(item);
      out += this.event('response.output_item.added', { output_index: this.message.outputIndex, item });
      out += this.event('response.content_part.added', { item_id: item.id, output_index: this.message.outputIndex, content_index: 0, part: outputText('') });
    }
    this.message.text += delta;
    return out + this.event('response.output_text.delta', { item_id: this.message.item.id, output_index: this.message.outputIndex, content_index: 0, delta, logprobs: [] });
  }

  private call(delta: ToolCallDelta): string {
    let out = '';
    let open = this.calls.get(delta.index);
    if (!open) {
      const item: FunctionCallItem = {
        type: 'function_call',
        id: functionCallItemId(this.generationId, this.calls.size),
        call_id: delta.id ?? `call_${this.generationId}_${delta.index}`,
        name: delta.name ?? '',
        arguments: '',
        status: 'in_progress',
      };
      open = { item, outputIndex: this.output.length };
      this.calls.set(delta.index, open);
      this.output.push(item);
      out += this.event('response.output_item.added', { output_index: open.outputIndex, item: { ...item } });
    } else if (delta.name !== undefined && open.item.name === '') {
      open.item.name = delta.name;
    }
    if (delta.argumentsDelta === '') return out;
    open.item.arguments += delta.argumentsDelta;
    return out + this.event('response.function_call_arguments.delta', { item_id: open.item.id, output_index: open.outputIndex, delta: delta.argumentsDelta });
  }

  /** Closes every open item in output order. */
  private closeItems(status: 'completed' | 'incomplete'): string {
    let out = '';
    for (const [outputIndex, item] of this.output.entries()) {
      if (item.status !== 'in_progress') continue;
      item.status = status;
      if (item.type === 'message' && this.message) {
        const part = outputText(this.message.text);
        item.content = [part];
        out += this.event('response.output_text.done', { item_id: item.id, output_index: outputIndex, content_index: 0, text: this.message.text, logprobs: [] });
        out += this.event('response.content_part.done', { item_id: item.id, output_index: outputIndex, content_index: 0, part });
      } else if (item.type === 'function_call') {
        out += this.event('response.function_call_arguments.done', { item_id: item.id, output_index: outputIndex, name: item.name, arguments: item.arguments });
      }
      out += this.event('response.output_item.done', { output_index: outputIndex, item });
    }
    return out;
  }

  /** The items closed, then response.completed (or response.incomplete when the answer was cut off) with usage and cost. */
  done(event: Extract<CompletionEvent, { type: 'done' }>): string {
    const { status, incomplete } = statusOf(event.finishReason);
    let out = this.closeItems(status === 'completed' ? 'completed' : 'incomplete');
    const response = this.snapshot(status, { usage: responsesUsage(event.usage), incomplete });
    out += this.event(status === 'completed' ? 'response.completed' : 'response.incomplete', { response });
    return out;
  }

  /** A failure after the stream started: the `error` event, then response.failed with what was used so far. */
  failed(body: OpenAIErrorBody, usage: Extract<CompletionEvent, { type: 'error' }>['usage'] | null): string {
    const code = body.error.code ?? body.error.type;
    let out = this.event('error', { code, message: body.error.message, param: body.error.param });
    for (const item of this.output) if (item.status === 'in_progress') item.status = 'incomplete';
    const response = this.snapshot('failed', { usage: usage ? responsesUsage(usage) : null, error: { code, message: body.error.message } });
    out += this.event('response.failed', { response });
    return out;
  }
}

import { z } from 'zod';
import { ProviderError } from '../errors.js';
import { parseJsonChunk } from '../http.js';
import type { StreamEvent } from '../types.js';
import { anthropicInBandError } from './errors.js';
import { mapAnthropicFinishReason } from './finish-reason.js';
import { droppedTextWarning } from './request.js';
import { mapAnthropicUsage } from './response.js';
import { STREAM_EVENT_TYPES, streamEventSchema, type AnthropicDeltaUsage, type AnthropicStreamEvent } from './wire.js';

const eventTypeSchema = z.object({ type: z.string() });

/** One SSE payload as a typed event; undefined for event types newer than this adapter, which it may skip. */
export function parseAnthropicStreamChunk(provider: string, data: string): AnthropicStreamEvent | undefined {
  const json = parseJsonChunk(provider, data);
  const typed = eventTypeSchema.safeParse(json);
  if (typed.success && !STREAM_EVENT_TYPES.has(typed.data.type)) return undefined;
  const parsed = streamEventSchema.safeParse(json);
  if (!parsed.success) {
    throw new ProviderError(`${provider} sent a stream event of an unexpected shape`, { provider, kind: 'malformed_response', cause: parsed.error });
  }
  return parsed.data;
}

type BlockState =
  | { kind: 'tool'; toolIndex: number; sentArguments: boolean }
  /** The JSON-output tool: its argument fragments are the response text. */
  | { kind: 'json' }
  /** Text after the JSON-output tool's call, left out of the answer. */
  | { kind: 'dropped' }
  | { kind: 'other' };

export interface AnthropicStreamMapperOptions {
  provider: string;
  warnings: string[];
  jsonToolName?: string;
  /** Redacted from in-band error messages. */
}

/**
 * Turns Anthropic's named stream events into normalized ones. Pure apart from the state a stream needs: which
 * block is which (tool indexes count tool calls, not content blocks), the usage so far, and the stop reason.
 *
 * With a JSON-output tool, the events before its call are held back, start event included: text the model writes
 * before the call ("Checking.") would make the content invalid JSON, but whether a call follows is only known
 * when it starts. When it does, that text is dropped and quoted in a warning on the start event, which is why the
 * start waits too; when the message ends without it, the held events go out as they came.
 */
export class AnthropicStreamMapper {
  /** Events held until the JSON-output tool's call starts or the message ends; undefined once released. */
  private held: StreamEvent[] | undefined;
  private jsonAnswerStarted = false;
  private started = false;
  private finished = false;
  private readonly blocks = new Map<number, BlockState>();
  private toolCount = 0;
  private usage: AnthropicDeltaUsage | undefined;
  private stopReason: string | null = null;
  private sawMessageDelta = false;

  constructor(private readonly options: AnthropicStreamMapperOptions) {
    if (options.jsonToolName !== undefined) this.held = [];
  }

  get isFinished(): boolean {
    return this.finished;
  }

  /** Events to emit for one wire event; throws a ProviderError for an in-band error. */
  map(event: AnthropicStreamEvent): StreamEvent[] {
    const out = this.gate(this.mapEvent(event));
    if (this.held !== undefined && this.jsonAnswerStarted) out.push(...this.release(true));
    return out;
  }

  /** Holds events while the JSON answer may still come; the finish event releases them as they are. */
  private gate(events: StreamEvent[]): StreamEvent[] {
    if (this.held === undefined) return events;
    const out: StreamEvent[] = [];
    for (const event of events) {
      if (this.held === undefined) out.push(event);
      else if (event.type === 'finish') out.push(...this.release(false), event);
      else this.held.push(event);
    }
    return out;
  }

  /** The held events; with the JSON answer under way, without the text before it, which a warning quotes. */
  private release(jsonAnswer: boolean): StreamEvent[] {
    const held = this.held ?? [];
    this.held = undefined;
    if (!jsonAnswer) return held;
    const dropped = held.map((event) => (event.type === 'text-delta' ? event.text : '')).join('');
    const kept = held.filter((event) => event.type !== 'text-delta');
    if (dropped.trim() === '') return kept;
    const warning = droppedTextWarning(dropped);
    return kept.map((event) => (event.type === 'start' ? { ...event, warnings: [...event.warnings, warning] } : event));
  }

  private mapEvent(event: AnthropicStreamEvent): StreamEvent[] {
    if (this.finished) return [];
    if (event.type === 'error') throw anthropicInBandError(this.options.provider, event.error);
    if (event.type === 'ping') return [];
    if (event.type === 'message_start') {
      if (event.message.usage !== undefined) this.usage = { ...event.message.usage };
      if (this.started) return [];
      this.started = true;
      return [
        {
          type: 'start',
          warnings: this.options.warnings,
          ...(event.message.id !== undefined ? { upstreamId: event.message.id } : {}),
          ...(event.message.model !== undefined ? { model: event.message.model } : {}),
        },
      ];
    }
    const out: StreamEvent[] = this.started ? [] : [this.startEvent()];
    out.push(...this.mapContent(event));
    return out;
  }

  /** The finish event for a body that ended without message_stop, when the message had at least reached its stop reason. */
  end(): StreamEvent[] | undefined {
    if (this.finished) return [];
    if (!this.sawMessageDelta) return undefined;
    return this.gate([...(this.started ? [] : [this.startEvent()]), this.finish()]);
  }

  private startEvent(): StreamEvent {
    this.started = true;
    return { type: 'start', warnings: this.options.warnings };
  }

  private mapContent(event: Exclude<AnthropicStreamEvent, { type: 'error' | 'ping' | 'message_start' }>): StreamEvent[] {
    switch (event.type) {
      case 'content_block_start': {
        const block = event.content_block;
        if (block.type === 'tool_use' && block.name === this.options.jsonToolName) {
          this.blocks.set(event.index, { kind: 'json' });
          this.jsonAnswerStarted = true;
          return [];
        }
        if (block.type === 'tool_use') {
          const state: BlockState = { kind: 'tool', toolIndex: this.toolCount++, sentArguments: false };
          this.blocks.set(event.index, state);
          // The start block carries `input: {}` and the arguments follow as fragments; a filled input is all there is.
          const initial = isEmptyObject(block.input) ? '' : JSON.stringify(block.input);
          if (initial !== '') state.sentArguments = true;
          return [{ type: 'tool-call-delta', index: state.toolIndex, id: block.id, name: block.name, argumentsDelta: initial }];
        }
        // Text after the JSON answer would break it as text before it does; the start event that could have
        // carried a warning is out by then (a forced call ends the turn, so this is not expected).
        if (block.type === 'text' && this.jsonAnswerStarted) {
          this.blocks.set(event.index, { kind: 'dropped' });
          return [];
        }
        this.blocks.set(event.index, { kind: 'other' });
        if (block.type === 'redacted_thinking') return [{ type: 'redacted-reasoning', data: block.data }];
        if (block.type === 'text' && block.text !== '') return [{ type: 'text-delta', text: block.text }];
        if (block.type === 'thinking' && block.thinking !== '') return [{ type: 'reasoning-delta', text: block.thinking }];
        return [];
      }
      case 'content_block_delta': {
        const delta = event.delta;
        if (this.blocks.get(event.index)?.kind === 'dropped') return [];
        if (delta.type === 'text_delta') return delta.text === '' ? [] : [{ type: 'text-delta', text: delta.text }];
        if (delta.type === 'thinking_delta') return delta.thinking === '' ? [] : [{ type: 'reasoning-delta', text: delta.thinking }];
        if (delta.type === 'signature_delta') return delta.signature === '' ? [] : [{ type: 'reasoning-signature', signature: delta.signature }];
        if (delta.type !== 'input_json_delta' || delta.partial_json === '') return [];
        const state = this.blocks.get(event.index);
        if (state?.kind === 'json') return [{ type: 'text-delta', text: delta.partial_json }];
        if (state?.kind !== 'tool') return [];
        state.sentArguments = true;
        return [{ type: 'tool-call-delta', index: state.toolIndex, argumentsDelta: delta.partial_json }];
      }
      case 'content_block_stop': {
        const state = this.blocks.get(event.index);
        // A tool without parameters streams no fragments; callers parse the joined fragments, and '' is not JSON.
        if (state?.kind === 'tool' && !state.sentArguments) return [{ type: 'tool-call-delta', index: state.toolIndex, argumentsDelta: '{}' }];
        return [];
      }
      case 'message_delta':
        this.sawMessageDelta = true;
        this.stopReason = event.delta.stop_reason ?? this.stopReason;
        if (event.usage !== undefined && event.usage !== null) this.usage = mergeUsage(this.usage, event.usage);
        return [];
      case 'message_stop':
        return [this.finish()];
    }
  }

  private finish(): StreamEvent {
    this.finished = true;
    const usage = this.usage;
    return {
      type: 'finish',
      finishReason: mapAnthropicFinishReason(this.stopReason, this.toolCount > 0),
      rawFinishReason: this.stopReason,
      usage:
        usage?.input_tokens === undefined || usage.output_tokens === undefined
          ? null
          : mapAnthropicUsage({ ...usage, input_tokens: usage.input_tokens, output_tokens: usage.output_tokens }),
    };
  }
}

function isEmptyObject(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'object' && Object.keys(value).length === 0);
}

/**
 * message_delta counts are cumulative, so they replace earlier ones; a count it leaves out (or sends as null)
 * must not erase the one from message_start.
 */
function mergeUsage(base: AnthropicDeltaUsage | undefined, update: AnthropicDeltaUsage): AnthropicDeltaUsage {
  return {
    input_tokens: update.input_tokens ?? base?.input_tokens,
    output_tokens: update.output_tokens ?? base?.output_tokens,
    cache_creation_input_tokens: update.cache_creation_input_tokens ?? base?.cache_creation_input_tokens,
    cache_read_input_tokens: update.cache_read_input_tokens ?? base?.cache_read_input_tokens,
    cache_creation: update.cache_creation ?? base?.cache_creation,
    output_tokens_details: update.output_tokens_details ?? base?.output_tokens_details,
  };
}

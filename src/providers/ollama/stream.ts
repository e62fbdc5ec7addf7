import type { StreamEvent } from '../types.js';
import { mapOllamaFinishReason } from './finish-reason.js';
import { mapOllamaUsage, ollamaToolCalls } from './response.js';
import type { OllamaChatResponse } from './wire.js';

/**
 * Turns NDJSON ChatResponse lines into stream events. Tool calls arrive whole inside a line, so each becomes
 * one tool-call delta with the complete arguments; the done line closes the stream with the counts.
 */
export class OllamaStreamMapper {
  private toolCallCount = 0;

  map(response: OllamaChatResponse): StreamEvent[] {
    const events: StreamEvent[] = [];
    const thinking = response.message?.thinking ?? '';
    if (thinking !== '') events.push({ type: 'reasoning-delta', text: thinking });
    const content = response.message?.content ?? '';
    if (content !== '') events.push({ type: 'text-delta', text: content });
    for (const call of ollamaToolCalls(response, this.toolCallCount)) {
      events.push({ type: 'tool-call-delta', index: this.toolCallCount++, id: call.id, name: call.name, argumentsDelta: call.arguments });
    }
    if (response.done) {
      events.push({
        type: 'finish',
        finishReason: mapOllamaFinishReason(response.done_reason, this.toolCallCount > 0),
        rawFinishReason: response.done_reason ?? null,
        usage: mapOllamaUsage(response),
      });
    }
    return events;
  }
}

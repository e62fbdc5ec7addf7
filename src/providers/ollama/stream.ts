import { ProviderError } from '../errors.js';
import { parseJsonChunk } from '../http.js';
import type { StreamEvent } from '../types.js';
import { ollamaErrorMessage, ollamaInBandError } from './errors.js';
import { mapOllamaFinishReason } from './finish-reason.js';
import { mapOllamaLogprobs, mapOllamaUsage, ollamaToolCalls } from './response.js';
import { chatResponseSchema, type OllamaChatResponse } from './wire.js';

/** One NDJSON line as a validated ChatResponse; an `{"error": …}` line is thrown as the ProviderError it reports. */
export function parseOllamaStreamChunk(provider: string, line: string): OllamaChatResponse {
  const json = parseJsonChunk(provider, line);
  // After a 200, a failure can only come as one last {"error": …} line.
  const error = ollamaErrorMessage(json);
  if (error !== undefined) throw ollamaInBandError(provider, error, 'stream_error');
  const parsed = chatResponseSchema.safeParse(json);
  if (!parsed.success) {
    throw new ProviderError(`${provider} sent a stream line that does not match the Ollama API`, { provider, kind: 'malformed_response', cause: parsed.error });
  }
  return parsed.data;
}

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
    if (content !== '') {
      const logprobs = mapOllamaLogprobs(response);
      events.push({ type: 'text-delta', text: content, ...(logprobs !== undefined ? { logprobs } : {}) });
    }
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

import { withToolCallRule } from '../normalize.js';
import type { FinishReason } from '../types.js';

/**
 * Ollama's done_reason in normalized terms. `load`/`unload` answer a request without messages: an empty
 * normal stop. Ollama has no content filter. Older builds sent no done_reason at all.
 */
export function mapOllamaFinishReason(raw: string | undefined, hasToolCalls: boolean): FinishReason {
  if (raw === 'length') return 'length';
  if (raw === undefined || raw === 'stop' || raw === 'load' || raw === 'unload') return withToolCallRule('stop', hasToolCalls);
  return 'error';
}

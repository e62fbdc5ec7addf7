import { withToolCallRule } from '../normalize.js';
import type { FinishReason } from '../types.js';

/** Every finish reason the family sends (wire-formats.md section 6); an unknown one ends normally, raw value kept. */
const FINISH_REASONS: Record<string, FinishReason> = {
  stop: 'stop',
  eos: 'stop',
  length: 'length',
  model_length: 'length',
  tool_calls: 'tool_calls',
  function_call: 'tool_calls',
  content_filter: 'content_filter',
  error: 'error',
  insufficient_system_resource: 'error',
};

function mapRawFinishReason(raw: string | null | undefined): FinishReason {
  if (raw === null || raw === undefined) return 'stop';
  return FINISH_REASONS[raw] ?? 'stop';
}

/**
 * The normalized reason for a finished message: tool calls win over `stop` (OpenAI says `stop` when tool_choice
 * names a function), and a refusal that ended normally was the model declining, i.e. filtered.
 */
export function mapOpenAIFinishReason(raw: string | null | undefined, seen: { hasToolCalls: boolean; refused: boolean }): FinishReason {
  const reason = withToolCallRule(mapRawFinishReason(raw), seen.hasToolCalls);
  return seen.refused && reason === 'stop' ? 'content_filter' : reason;
}

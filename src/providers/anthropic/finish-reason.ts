import { withToolCallRule } from '../normalize.js';
import type { FinishReason } from '../types.js';

/** Section 6 of the wire-format notes; a reason we do not know yet still ended the message normally. */
export function mapAnthropicFinishReason(raw: string | null, hasToolCalls: boolean): FinishReason {
  let reason: FinishReason;
  switch (raw) {
    case 'max_tokens':
    case 'model_context_window_exceeded':
      reason = 'length';
      break;
    case 'tool_use':
      // Only the JSON-output tool was called, so from the caller's side the answer is complete.
      reason = hasToolCalls ? 'tool_calls' : 'stop';
      break;
    case 'refusal':
      reason = 'content_filter';
      break;
    default:
      // end_turn, stop_sequence, pause_turn (a server tool loop paused; the turn's output so far stands).
      reason = 'stop';
  }
  return withToolCallRule(reason, hasToolCalls);
}

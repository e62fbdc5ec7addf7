import { withToolCallRule } from '../normalize.js';
import type { FinishReason } from '../types.js';

const CONTENT_FILTER_REASONS = new Set([
  'SAFETY',
  'RECITATION',
  'BLOCKLIST',
  'PROHIBITED_CONTENT',
  'SPII',
  'IMAGE_SAFETY',
  'IMAGE_PROHIBITED_CONTENT',
  'IMAGE_RECITATION',
]);

/**
 * Gemini's finish reason in normalized terms. Gemini has no tool-call reason: a call ends with STOP, so the
 * tool-call rule decides. Reasons we do not know (the list keeps growing) count as errors, keeping the raw value.
 */
export function mapGeminiFinishReason(raw: string | undefined, hasToolCalls: boolean): FinishReason {
  if (raw === undefined || raw === 'STOP') return withToolCallRule('stop', hasToolCalls);
  if (raw === 'MAX_TOKENS') return 'length';
  if (CONTENT_FILTER_REASONS.has(raw)) return 'content_filter';
  return 'error';
}

import { ProviderError, kindForStatus } from '../errors.js';
import { reportedUsage, withToolCallRule } from '../normalize.js';
import type { CompletionResponse, FinishReason, ToolCall, Usage } from '../types.js';
import { kindForWireError } from './errors.js';
import { chatCompletionSchema, errorEnvelopeSchema, type WireContent, type WireError, type WireUsage } from './wire.js';

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

export function mapFinishReason(raw: string | null | undefined): FinishReason {
  if (raw === null || raw === undefined) return 'stop';
  return FINISH_REASONS[raw] ?? 'stop';
}

/**
 * The normalized reason for a finished message: tool calls win over `stop` (OpenAI says `stop` when tool_choice
 * names a function), and a refusal that ended normally was the model declining, i.e. filtered.
 */
export function settleFinishReason(raw: string | null | undefined, seen: { hasToolCalls: boolean; refused: boolean }): FinishReason {
  const reason = withToolCallRule(mapFinishReason(raw), seen.hasToolCalls);
  return seen.refused && reason === 'stop' ? 'content_filter' : reason;
}

/** Null when the provider reported no counts, so the caller estimates. */
export function usageFromWire(usage: WireUsage | null | undefined): Usage | null {
  if (usage === null || usage === undefined) return null;
  if (usage.prompt_tokens == null && usage.completion_tokens == null) return null;
  return reportedUsage({
    promptTokens: usage.prompt_tokens ?? 0,
    completionTokens: usage.completion_tokens ?? 0,
    cachedPromptTokens: usage.prompt_tokens_details?.cached_tokens ?? usage.prompt_cache_hit_tokens ?? 0,
    reasoningTokens: usage.completion_tokens_details?.reasoning_tokens ?? 0,
  });
}

/** Text and reasoning from a content value: a string, or Mistral's array of text and thinking chunks. */
export function splitContent(content: WireContent): { text: string | null; reasoning: string } {
  if (content === null || content === undefined) return { text: null, reasoning: '' };
  if (typeof content === 'string') return { text: content, reasoning: '' };
  let text = '';
  let reasoning = '';
  for (const chunk of content) {
    if (chunk.type === 'text') text += chunk.text ?? '';
    else if (chunk.type === 'thinking') reasoning += (chunk.thinking ?? []).map((part) => part.text ?? '').join('');
  }
  return { text, reasoning };
}

/** Arguments as JSON text; a few self-hosted servers send an object where OpenAI sends a string. */
export function argumentsText(args: string | Record<string, unknown> | null | undefined): string {
  if (args === null || args === undefined) return '';
  return typeof args === 'string' ? args : JSON.stringify(args);
}

/** An error reported inside a 2xx body or stream. */
export function inBandProviderError(provider: string, error: WireError, kind: ProviderError['kind']): ProviderError {
  const code = error.code === null || error.code === undefined ? error.type ?? undefined : String(error.code);
  return new ProviderError(`${provider} reported an error: ${error.message ?? error.type ?? 'unknown error'}`, {
    provider,
    kind,
    ...(code !== undefined ? { upstreamCode: code } : {}),
  });
}

/** Maps a non-streaming Chat Completions body onto the normalized response. Pure; throws a ProviderError for a bad body. */
export function fromChatCompletion(provider: string, json: unknown, warnings: string[]): CompletionResponse {
  // Checked by key first: a failed safeParse builds a ZodError, which was a measurable cost on every success.
  const failure = typeof json === 'object' && json !== null && 'error' in json ? errorEnvelopeSchema.safeParse(json) : undefined;
  if (failure?.success) {
    const error = typeof failure.data.error === 'string' ? { message: failure.data.error } : failure.data.error;
    // OpenRouter's numeric codes are the HTTP status the error would have had before generation began.
    const status = typeof error.code === 'number' ? error.code : undefined;
    const kind = kindForWireError(status ?? 200, error) ?? (status !== undefined ? kindForStatus(status) : 'server_error');
    throw inBandProviderError(provider, error, kind);
  }
  const parsed = chatCompletionSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ProviderError(`${provider} sent a response that is not a chat completion (${issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid'})`, {
      provider,
      kind: 'malformed_response',
      cause: parsed.error,
    });
  }
  const completion = parsed.data;
  // min(1) in the schema guarantees a first choice.
  const choice = completion.choices[0]!;
  const { message } = choice;
  const split = splitContent(message.content);
  const reasoning = message.reasoning_content || message.reasoning || split.reasoning;
  const refusal = message.refusal ?? undefined;
  const toolCalls: ToolCall[] = (message.tool_calls ?? []).map((call, index) => ({
    id: call.id ?? `call_${index}`,
    name: call.function.name,
    arguments: argumentsText(call.function.arguments),
  }));
  // A refusal is the only answer the caller gets, so it stands in for the content.
  const content = split.text !== null && split.text !== '' ? split.text : refusal ?? split.text;
  return {
    ...(completion.id ? { upstreamId: completion.id } : {}),
    ...(completion.model ? { model: completion.model } : {}),
    content,
    ...(reasoning !== '' ? { reasoning } : {}),
    toolCalls,
    finishReason: settleFinishReason(choice.finish_reason, { hasToolCalls: toolCalls.length > 0, refused: refusal !== undefined }),
    rawFinishReason: choice.finish_reason ?? null,
    usage: usageFromWire(completion.usage ?? completion.x_groq?.usage),
    warnings,
  };
}

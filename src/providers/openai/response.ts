import type { z } from 'zod';
import { ProviderError, kindForStatus } from '../errors.js';
import { reportedUsage } from '../normalize.js';
import type { CompletionChoice, CompletionResponse, TokenLogprob, ToolCall, Usage } from '../types.js';
import { kindForWireError, openAIInBandError } from './errors.js';
import { mapOpenAIFinishReason } from './finish-reason.js';
import { chatCompletionSchema, errorEnvelopeSchema, type WireContent, type WireLogprobs, type WireUsage } from './wire.js';

/** Null when the provider reported no counts, so the caller estimates. */
export function mapOpenAIUsage(usage: WireUsage | null | undefined): Usage | null {
  if (usage === null || usage === undefined) return null;
  if (usage.prompt_tokens == null && usage.completion_tokens == null) return null;
  return reportedUsage({
    promptTokens: usage.prompt_tokens ?? 0,
    completionTokens: usage.completion_tokens ?? 0,
    cachedPromptTokens: usage.prompt_tokens_details?.cached_tokens ?? usage.prompt_cache_hit_tokens ?? 0,
    reasoningTokens: usage.completion_tokens_details?.reasoning_tokens ?? 0,
  });
}

/** A choice's content-token log probabilities; undefined when the provider gave none. */
export function mapOpenAILogprobs(logprobs: WireLogprobs): TokenLogprob[] | undefined {
  if (logprobs?.content == null) return undefined;
  return logprobs.content.map((entry) => ({
    token: entry.token,
    logprob: entry.logprob,
    bytes: entry.bytes ?? null,
    topLogprobs: (entry.top_logprobs ?? []).map((top) => ({ token: top.token, logprob: top.logprob, bytes: top.bytes ?? null })),
  }));
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

/** Maps a non-streaming Chat Completions body onto the normalized response. Pure; throws a ProviderError for a bad body. */
/**
 * `sentServiceTier`: the tier the request asked for, which a server that does not report one (only OpenAI's own
 * does) is taken to have served.
 */
export function fromOpenAIResponse(provider: string, json: unknown, warnings: string[], sentServiceTier?: string): CompletionResponse {
  // Checked by key first: a failed safeParse builds a ZodError, which was a measurable cost on every success.
  const failure = typeof json === 'object' && json !== null && 'error' in json ? errorEnvelopeSchema.safeParse(json) : undefined;
  if (failure?.success) {
    const error = typeof failure.data.error === 'string' ? { message: failure.data.error } : failure.data.error;
    // OpenRouter's numeric codes are the HTTP status the error would have had before generation began.
    const status = typeof error.code === 'number' ? error.code : undefined;
    const kind = kindForWireError(status ?? 200, error) ?? (status !== undefined ? kindForStatus(status) : 'server_error');
    throw openAIInBandError(provider, error, kind);
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
  // Choices in their index order (servers are not bound to send them sorted); the first is the response itself.
  const choices = completion.choices.map((choice, position) => ({ choice, index: choice.index ?? position })).sort((a, b) => a.index - b.index);
  const mapped = choices.map(({ choice }) => mapChoice(choice));
  // min(1) in the schema guarantees a first choice.
  const first = mapped[0]!;
  const logprobs = first.logprobs;
  return {
    ...(completion.id ? { upstreamId: completion.id } : {}),
    ...(completion.model ? { model: completion.model } : {}),
    content: first.content,
    ...(first.reasoning !== '' ? { reasoning: first.reasoning } : {}),
    toolCalls: first.toolCalls,
    finishReason: first.finishReason,
    rawFinishReason: first.rawFinishReason,
    usage: mapOpenAIUsage(completion.usage ?? completion.x_groq?.usage),
    warnings,
    ...(logprobs !== undefined ? { logprobs } : {}),
    ...(mapped.length > 1 ? { choices: mapped.slice(1).map(({ reasoning: _reasoning, ...choice }) => choice) } : {}),
    ...((completion.service_tier ?? sentServiceTier) ? { serviceTier: completion.service_tier ?? sentServiceTier } : {}),
  };
}

type WireChoice = z.infer<typeof chatCompletionSchema>['choices'][number];

function mapChoice(choice: WireChoice): CompletionChoice & { reasoning: string } {
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
  const logprobs = mapOpenAILogprobs(choice.logprobs);
  return {
    content,
    reasoning,
    toolCalls,
    finishReason: mapOpenAIFinishReason(choice.finish_reason, { hasToolCalls: toolCalls.length > 0, refused: refusal !== undefined }),
    rawFinishReason: choice.finish_reason ?? null,
    ...(logprobs !== undefined ? { logprobs } : {}),
  };
}

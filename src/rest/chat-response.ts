import type { CompletionEvent, CompletionResult, PricedUsage, ToolCallDelta } from '../completions/types.js';
import type { FinishReason, TokenLogprob, ToolCall } from '../providers/types.js';
import { picosToUsd } from '../money.js';

/**
 * OpenAI's response and stream-chunk wire format (wire-formats.md section 1), written as strings: this is the
 * hot path, so each chunk is one template with JSON.stringify applied only to the caller-controlled values.
 */

export type OpenAIFinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter';

export function openAIFinishReason(reason: FinishReason): OpenAIFinishReason {
  switch (reason) {
    case 'stop':
    case 'length':
    case 'tool_calls':
    case 'content_filter':
      return reason;
    // A successful result never carries these (failures and cancellations are errors), but the type allows them.
    case 'error':
    case 'cancelled':
      return 'stop';
  }
}

/** Cost in dollars as an exact decimal (the ledger counts integer pico-dollars), for the cost header. */
export function usdText(picos: number): string {
  const whole = Math.floor(picos / 1e12);
  const fraction = picos - whole * 1e12;
  if (fraction === 0) return String(whole);
  return `${whole}.${String(fraction).padStart(12, '0').replace(/0+$/, '')}`;
}

/** OpenAI's usage object plus `cost_usd` (null when a price is unknown) and, as OpenRouter reports them, cache writes. */
export function usageJson(usage: PricedUsage): string {
  const cost = usage.costPicos === null ? 'null' : String(picosToUsd(usage.costPicos));
  return (
    `{"prompt_tokens":${usage.promptTokens},"completion_tokens":${usage.completionTokens},"total_tokens":${usage.totalTokens},` +
    // Only when there were writes: OpenAI's own shape stays exact for everyone else.
    `"prompt_tokens_details":{"cached_tokens":${usage.cachedPromptTokens}${usage.cacheWriteTokens ? `,"cache_write_tokens":${usage.cacheWriteTokens}` : ''}},` +
    `"completion_tokens_details":{"reasoning_tokens":${usage.reasoningTokens}},"cost_usd":${cost}}`
  );
}

export function completionId(generationId: string): string {
  return `chatcmpl-${generationId}`;
}

/**
 * The non-streamed `chat.completion` body. Its `model` is the model that served (`result.servedModel`), not the one
 * asked for: after a fallback the caller learns which model answered, as OpenRouter reports it. We name it by its
 * catalog id rather than echoing the upstream's own dated name (`gpt-4o-mini-2024-07-18`, as OpenAI's API does):
 * the catalog id is what a caller can send back as `model`, and it reads the same whichever provider served it.
 */
export function completionBody(result: CompletionResult, created: number): string {
  const model = result.servedModel;
  let choices = choiceJson(0, result.content, result.reasoning, result.toolCalls, result.finishReason, result.logprobs);
  for (const [offset, choice] of (result.choices ?? []).entries()) {
    choices += `,${choiceJson(offset + 1, choice.content, null, choice.toolCalls, choice.finishReason, choice.logprobs)}`;
  }
  return (
    `{"id":"${completionId(result.id)}","object":"chat.completion","created":${created},"model":${JSON.stringify(model)},` +
    `"choices":[${choices}],` +
    (result.serviceTier !== undefined ? `"service_tier":${JSON.stringify(result.serviceTier)},` : '') +
    `"usage":${usageJson(result.usage)}}`
  );
}

function choiceJson(index: number, content: string | null, reasoning: string | null, toolCalls: ToolCall[], finishReason: FinishReason, logprobs: TokenLogprob[] | undefined): string {
  let message = `{"role":"assistant","content":${content === null ? 'null' : JSON.stringify(content)},"refusal":null`;
  if (reasoning) message += `,"reasoning":${JSON.stringify(reasoning)}`;
  if (toolCalls.length > 0) {
    const calls = toolCalls.map((call) => ({ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } }));
    message += `,"tool_calls":${JSON.stringify(calls)}`;
  }
  message += '}';
  return `{"index":${index},"message":${message},"logprobs":${logprobsJson(logprobs)},"finish_reason":"${openAIFinishReason(finishReason)}"}`;
}

/** OpenAI's choice `logprobs`: `{"content":[…],"refusal":null}`, or null when none were asked for or given. */
export function logprobsJson(logprobs: TokenLogprob[] | undefined): string {
  if (logprobs === undefined) return 'null';
  const content = logprobs.map((entry) => ({
    token: entry.token,
    logprob: entry.logprob,
    bytes: entry.bytes,
    top_logprobs: entry.topLogprobs.map((top) => ({ token: top.token, logprob: top.logprob, bytes: top.bytes })),
  }));
  return `{"content":${JSON.stringify(content)},"refusal":null}`;
}

function toolCallsJson(calls: ToolCallDelta[]): string {
  const wire = calls.map((call) => {
    // The first fragment of a call names it; later ones carry only argument pieces, as OpenAI streams them.
    if (call.id !== undefined) return { index: call.index, id: call.id, type: 'function', function: { name: call.name ?? '', arguments: call.argumentsDelta } };
    if (call.name !== undefined) return { index: call.index, function: { name: call.name, arguments: call.argumentsDelta } };
    return { index: call.index, function: { arguments: call.argumentsDelta } };
  });
  return JSON.stringify(wire);
}

/**
 * The SSE events of one stream; the envelope every chunk repeats is built once. `model` is the stream's served model
 * (the `started` event's `servedModel`), which no chunk can change: a stream never switches endpoints after its
 * first token.
 */
export class ChunkFormatter {
  private readonly head: string;
  private readonly tail: string;

  constructor(
    generationId: string,
    model: string,
    created: number,
    private readonly includeUsage: boolean,
  ) {
    this.head = `data: {"id":"${completionId(generationId)}","object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(model)},"choices":`;
    // With include_usage, OpenAI puts "usage":null on every chunk before the usage chunk.
    this.tail = includeUsage ? ',"usage":null}\n\n' : '}\n\n';
  }

  private choice(delta: string, finishReason: string, logprobs = 'null'): string {
    return `${this.head}[{"index":0,"delta":${delta},"logprobs":${logprobs},"finish_reason":${finishReason}}]${this.tail}`;
  }

  /** The opening chunk: the role, and empty content. */
  role(): string {
    return this.choice('{"role":"assistant","content":""}', 'null');
  }

  /** One delta event as one chunk, or '' when it carries nothing. */
  delta(event: Extract<CompletionEvent, { type: 'delta' }>): string {
    let fields = '';
    if (event.text !== '') fields = `"content":${JSON.stringify(event.text)}`;
    // Not an OpenAI field: reasoning text as OpenRouter and Ollama stream it; SDKs pass unknown delta fields through.
    if (event.reasoning !== '') fields += `${fields === '' ? '' : ','}"reasoning":${JSON.stringify(event.reasoning)}`;
    if (event.toolCalls.length > 0) fields += `${fields === '' ? '' : ','}"tool_calls":${toolCallsJson(event.toolCalls)}`;
    return fields === '' ? '' : this.choice(`{${fields}}`, 'null', logprobsJson(event.logprobs));
  }

  /** The finish chunk, the usage chunk when asked for, and the terminator, written together. */
  done(event: Extract<CompletionEvent, { type: 'done' }>): string {
    let out = this.choice('{}', `"${openAIFinishReason(event.finishReason)}"`);
    if (this.includeUsage) out += `${this.head}[],"usage":${usageJson(event.usage)}}\n\n`;
    return out + 'data: [DONE]\n\n';
  }
}

/** OpenAI's in-band failure: a lone `error` event, after which the stream closes without [DONE]. */
export function errorEvent(body: unknown): string {
  return `data: ${JSON.stringify(body)}\n\n`;
}

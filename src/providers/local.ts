import { asksForSomething, refuseOrWarn, type ParameterField } from './parameters.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { localEmbed } from './local-embed.js';
import { messageText, reportedUsage } from './normalize.js';
import { countTokensExact, decodeTokens, encodeTokensExact } from './tokenizer.js';
import type { CompletionRequest, CompletionResponse, ProviderAdapter, StreamEvent } from './types.js';
import { BadRequestError } from '../errors.js';

export interface LocalProviderOptions {
  /** Pause between streamed words, so a demo stream is visible; 0 in benchmarks. */
  delayMs: number;
}

const MODELS = ['echo'] as const;
/** The deterministic demo embedding (local-embed.ts); it does not chat, as `echo` does not embed. */
const EMBED_MODEL = 'embed';

function lastUserText(request: CompletionRequest): string {
  for (let index = request.messages.length - 1; index >= 0; index--) {
    const message = request.messages[index];
    if (message?.role === 'user') return message.content.map((part) => (part.type === 'text' ? part.text : '')).join('');
  }
  return '';
}

/** The answer and why it ended: cut at maxTokens tokens by the real tokenizer. */
async function answer(request: CompletionRequest, signal: AbortSignal): Promise<{ text: string; truncated: boolean }> {
  const text = lastUserText(request);
  if (request.maxTokens === undefined) return { text, truncated: false };
  // Tokenizes only as far as the limit: a 2 MB message with maxTokens 10 stops after a few pieces.
  const tokens = await encodeTokensExact(text, request.maxTokens, signal);
  if (tokens.length <= request.maxTokens) return { text, truncated: false };
  return { text: decodeTokens(tokens.slice(0, request.maxTokens)), truncated: true };
}

/** Per-message framing tokens, as OpenAI's chat format counts them (the same framing normalize.ts estimates with). */
const TOKENS_PER_MESSAGE = 3;

/**
 * Exact usage, counted off the event loop's critical path (the exact counter yields between slices). The echoed text
 * is usually the last message itself, so each distinct text is counted once.
 */
async function exactUsage(request: CompletionRequest, completion: string, signal: AbortSignal) {
  const counted = new Map<string, number>();
  const count = async (text: string): Promise<number> => {
    const known = counted.get(text);
    if (known !== undefined) return known;
    const tokens = await countTokensExact(text, signal);
    counted.set(text, tokens);
    return tokens;
  };
  let promptTokens = 3;
  for (const message of request.messages) promptTokens += TOKENS_PER_MESSAGE + (await count(messageText(message)));
  for (const tool of request.tools ?? []) promptTokens += await count(tool.name + (tool.description ?? '') + JSON.stringify(tool.parameters));
  return reportedUsage({ promptTokens, completionTokens: await count(completion) });
}

function warningsFor(request: CompletionRequest): string[] {
  const warnings: string[] = [];
  if (request.tools?.length) warnings.push('local/echo does not call tools; tools were ignored');
  if (request.responseFormat && request.responseFormat.type !== 'text') warnings.push('local/echo does not produce structured output; responseFormat was ignored');
  const fields: readonly ParameterField[] = ['presencePenalty', 'frequencyPenalty', 'logitBias', 'parallelToolCalls', 'reasoningEffort', 'serviceTier', 'store', 'n', 'logprobs', 'topLogprobs'];
  for (const field of fields) {
    if (asksForSomething(request, field)) refuseOrWarn(request, 'local/echo', field, 'means nothing to an echo', (text) => warnings.push(`local/echo: ${text}`));
  }
  return warnings;
}

/**
 * The built-in demo provider: no key, no network. `embed` embeds (local-embed.ts); `echo` answers with the last user message, a word at a time
 * when streamed, honours maxTokens, and counts usage with the real tokenizer.
 */
export function createLocalAdapter(options: LocalProviderOptions): ProviderAdapter {
  function check(request: CompletionRequest): void {
    if (!(MODELS as readonly string[]).includes(request.model)) throw new BadRequestError(`The local provider has no model '${request.model}'`, 'model');
  }
  return {
    id: 'local',
    kind: 'local',

    async complete(request, { signal }): Promise<CompletionResponse> {
      check(request);
      signal.throwIfAborted();
      const { text, truncated } = await answer(request, signal);
      const usage = await exactUsage(request, text, signal);
      return {
        content: text,
        toolCalls: [],
        finishReason: truncated ? 'length' : 'stop',
        rawFinishReason: truncated ? 'length' : 'stop',
        usage,
        warnings: warningsFor(request),
      };
    },

    async *stream(request, { signal }): AsyncGenerator<StreamEvent> {
      check(request);
      signal.throwIfAborted();
      const { text, truncated } = await answer(request, signal);
      yield { type: 'start', model: request.model, warnings: warningsFor(request) };
      const words = text.match(/\S+\s*|\s+/g) ?? [];
      for (const [index, word] of words.entries()) {
        if (index > 0 && options.delayMs > 0) await sleep(options.delayMs, undefined, { signal });
        signal.throwIfAborted();
        yield { type: 'text-delta', text: word };
      }
      yield {
        type: 'finish',
        finishReason: truncated ? 'length' : 'stop',
        rawFinishReason: truncated ? 'length' : 'stop',
        usage: await exactUsage(request, text, signal),
      };
    },

    async listModels() {
      return [
        ...MODELS.map((id) => ({ id, displayName: 'Local Echo', contextLength: 128_000, maxOutputTokens: 4096 })),
        { id: EMBED_MODEL, displayName: 'Local Embed', contextLength: 8192 },
      ];
    },

    async embed(request, { signal }) {
      if (request.model !== EMBED_MODEL) throw new BadRequestError(`The local provider has no embedding model '${request.model}'`, 'model');
      return localEmbed(request, signal);
    },
  };
}

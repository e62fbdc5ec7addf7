import { setTimeout as sleep } from 'node:timers/promises';
import { reportedUsage, estimatePromptTokens } from './normalize.js';
import { countTokens, decodeTokens, encodeTokens } from './tokenizer.js';
import type { CompletionRequest, CompletionResponse, ProviderAdapter, StreamEvent } from './types.js';
import { BadRequestError } from '../errors.js';

export interface LocalProviderOptions {
  /** Pause between streamed words, so a demo stream is visible; 0 in benchmarks. */
  delayMs: number;
}

const MODELS = ['echo'] as const;

function lastUserText(request: CompletionRequest): string {
  for (let index = request.messages.length - 1; index >= 0; index--) {
    const message = request.messages[index];
    if (message?.role === 'user') return message.content.map((part) => (part.type === 'text' ? part.text : '')).join('');
  }
  return '';
}

/** The answer and why it ended: cut at maxTokens tokens by the real tokenizer. */
function answer(request: CompletionRequest): { text: string; truncated: boolean } {
  const text = lastUserText(request);
  if (request.maxTokens === undefined) return { text, truncated: false };
  const tokens = encodeTokens(text);
  if (tokens.length <= request.maxTokens) return { text, truncated: false };
  return { text: decodeTokens(tokens.slice(0, request.maxTokens)), truncated: true };
}

function warningsFor(request: CompletionRequest): string[] {
  const warnings: string[] = [];
  if (request.tools?.length) warnings.push('local/echo does not call tools; tools were ignored');
  if (request.responseFormat && request.responseFormat.type !== 'text') warnings.push('local/echo does not produce structured output; responseFormat was ignored');
  return warnings;
}

/**
 * The built-in demo provider: no key, no network. `echo` answers with the last user message, a word at a time
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
      const { text, truncated } = answer(request);
      return {
        content: text,
        toolCalls: [],
        finishReason: truncated ? 'length' : 'stop',
        rawFinishReason: truncated ? 'length' : 'stop',
        usage: reportedUsage({ promptTokens: estimatePromptTokens(request), completionTokens: countTokens(text) }),
        warnings: warningsFor(request),
      };
    },

    async *stream(request, { signal }): AsyncGenerator<StreamEvent> {
      check(request);
      signal.throwIfAborted();
      const { text, truncated } = answer(request);
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
        usage: reportedUsage({ promptTokens: estimatePromptTokens(request), completionTokens: countTokens(text) }),
      };
    },

    async listModels() {
      return MODELS.map((id) => ({ id, displayName: 'Local Echo', contextLength: 128_000, maxOutputTokens: 4096 }));
    },
  };
}

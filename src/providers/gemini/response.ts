import { reportedUsage } from '../normalize.js';
import { synthesizedToolCallId } from '../tool-call-ids.js';
import type { CompletionChoice, CompletionResponse, TokenLogprob, ToolCall, Usage } from '../types.js';
import { mapGeminiFinishReason } from './finish-reason.js';
import type { GeminiLogprobsResult, GeminiUsageMetadata, GenerateContentResponse } from './wire.js';

/** Thought tokens are not part of candidatesTokenCount in Gemini's counts, but are output we pay for. */
export function mapGeminiUsage(metadata: GeminiUsageMetadata | undefined): Usage | null {
  if (metadata === undefined) return null;
  const thoughts = metadata.thoughtsTokenCount ?? 0;
  return reportedUsage({
    promptTokens: metadata.promptTokenCount ?? 0,
    completionTokens: (metadata.candidatesTokenCount ?? 0) + thoughts,
    cachedPromptTokens: metadata.cachedContentTokenCount ?? 0,
    reasoningTokens: thoughts,
  });
}

/** Gemini's chosen token per step, with that step's top candidates, in OpenAI's shape (Gemini gives no bytes). */
export function mapGeminiLogprobs(result: GeminiLogprobsResult | undefined): TokenLogprob[] | undefined {
  if (result?.chosenCandidates === undefined) return undefined;
  return result.chosenCandidates.map((chosen, step) => ({
    token: chosen.token ?? '',
    logprob: chosen.logProbability ?? 0,
    bytes: null,
    topLogprobs: (result.topCandidates?.[step]?.candidates ?? []).map((top) => ({ token: top.token ?? '', logprob: top.logProbability ?? 0, bytes: null })),
  }));
}

type Candidate = NonNullable<GenerateContentResponse['candidates']>[number];

function readCandidate(candidate: Candidate | undefined): { texts: string[]; thoughts: string[]; toolCalls: ToolCall[] } {
  const texts: string[] = [];
  const thoughts: string[] = [];
  const toolCalls: ToolCall[] = [];
  for (const part of candidate?.content?.parts ?? []) {
    if (part.functionCall !== undefined) {
      toolCalls.push({
        id: part.functionCall.id ?? synthesizedToolCallId(toolCalls.length),
        name: part.functionCall.name,
        arguments: JSON.stringify(part.functionCall.args ?? {}),
      });
    } else if (part.text !== undefined) {
      (part.thought === true ? thoughts : texts).push(part.text);
    }
  }
  return { texts, thoughts, toolCalls };
}

/** Maps a whole generateContent reply; candidates after the first (candidateCount > 1) become `choices`. */
export function fromGeminiResponse(response: GenerateContentResponse, warnings: string[]): CompletionResponse {
  const candidates = [...(response.candidates ?? [])].map((candidate, position) => ({ candidate, index: candidate.index ?? position })).sort((a, b) => a.index - b.index).map(({ candidate }) => candidate);
  const candidate = candidates[0];
  const { texts, thoughts, toolCalls } = readCandidate(candidate);

  const blockReason = response.promptFeedback?.blockReason;
  const blocked = candidate === undefined && blockReason !== undefined;
  const rawFinishReason = blocked ? blockReason : (candidate?.finishReason ?? null);
  const choices: CompletionChoice[] = candidates.slice(1).map((other) => {
    const read = readCandidate(other);
    const logprobs = mapGeminiLogprobs(other.logprobsResult);
    return {
      content: read.texts.length > 0 ? read.texts.join('') : null,
      toolCalls: read.toolCalls,
      finishReason: mapGeminiFinishReason(other.finishReason, read.toolCalls.length > 0),
      rawFinishReason: other.finishReason ?? null,
      ...(logprobs !== undefined ? { logprobs } : {}),
    };
  });
  const logprobs = mapGeminiLogprobs(candidate?.logprobsResult);
  return {
    ...(response.responseId !== undefined ? { upstreamId: response.responseId } : {}),
    ...(response.modelVersion !== undefined ? { model: response.modelVersion } : {}),
    content: texts.length > 0 ? texts.join('') : null,
    ...(thoughts.length > 0 ? { reasoning: thoughts.join('') } : {}),
    toolCalls,
    finishReason: blocked ? 'content_filter' : mapGeminiFinishReason(candidate?.finishReason, toolCalls.length > 0),
    rawFinishReason,
    usage: mapGeminiUsage(response.usageMetadata),
    warnings,
    ...(choices.length > 0 ? { choices } : {}),
    ...(logprobs !== undefined ? { logprobs } : {}),
  };
}

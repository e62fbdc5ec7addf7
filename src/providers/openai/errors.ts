import { z } from 'zod';
import { ProviderError, type ProviderErrorKind } from '../errors.js';
import type { DescribedError } from '../http.js';
import { errorEnvelopeSchema, wireErrorSchema, type WireError } from './wire.js';

/** Mistral and vLLM send the error fields without OpenAI's `error` wrapper. */
const flatErrorSchema = wireErrorSchema.extend({ message: z.string() });
/** FastAPI-style validation errors (Mistral's 422). */
const validationErrorSchema = z.object({
  detail: z.union([z.string(), z.array(z.object({ msg: z.string(), loc: z.array(z.union([z.string(), z.number()])).nullish() }))]),
});

/** Error codes and types that mean the prompt did not fit (OpenAI, llama.cpp). */
const CONTEXT_CODE = /context_length_exceeded|exceed_context_size/i;
/**
 * Providers that give no code for an oversized prompt say so only in the message: OpenAI-style "maximum context
 * length" (DeepSeek, OpenRouter, vLLM), Mistral's "too large for model", Groq's "reduce the length of the messages",
 * TGI's "`inputs` tokens + `max_new_tokens`" (Together).
 */
const CONTEXT_MESSAGE = /maximum context length|context (?:length|window|size)|too large for model|reduce the length of the messages|`inputs` tokens \+ `max_new_tokens`/i;
const MESSAGE_LIMIT = 500;

/** The error fields of any body shape the family sends; undefined when the body has none we recognize. */
export function readWireError(body: unknown): WireError | undefined {
  const envelope = errorEnvelopeSchema.safeParse(body);
  if (envelope.success) return typeof envelope.data.error === 'string' ? { message: envelope.data.error } : envelope.data.error;
  const flat = flatErrorSchema.safeParse(body);
  if (flat.success) return flat.data;
  const validation = validationErrorSchema.safeParse(body);
  if (validation.success) {
    const { detail } = validation.data;
    const message =
      typeof detail === 'string' ? detail : detail.map((item) => (item.loc ? `${item.loc.join('.')}: ${item.msg}` : item.msg)).join('; ');
    return { message };
  }
  if (typeof body === 'string' && body.trim() !== '') return { message: body.trim().slice(0, MESSAGE_LIMIT) };
  return undefined;
}

function upstreamCodeOf(error: WireError): string | undefined {
  if (error.code !== null && error.code !== undefined) return String(error.code);
  return error.type ?? undefined;
}

/** The kind an error body means when it knows better than the status alone. */
export function kindForWireError(status: number, error: WireError): ProviderErrorKind | undefined {
  const code = error.code === null || error.code === undefined ? '' : String(error.code);
  const type = error.type ?? '';
  if (CONTEXT_CODE.test(code) || CONTEXT_CODE.test(type)) return 'context_length_exceeded';
  // 402 is DeepSeek's insufficient balance and OpenRouter's out of credits: retrying will not help.
  if (code === 'insufficient_quota' || type === 'insufficient_quota' || status === 402) return 'quota_exhausted';
  if ((status === 400 || status === 413 || status === 422) && CONTEXT_MESSAGE.test(error.message ?? '')) return 'context_length_exceeded';
  // Groq's capacity_exceeded on the flex tier: busy now, fine later.
  if (status === 498) return 'overloaded';
  return undefined;
}

/** An ErrorDescriber for the Chat Completions family: message, kind and code from whichever error shape came back. */
export function describeOpenAIError(status: number, body: unknown): DescribedError {
  const error = readWireError(body);
  if (error === undefined) return { message: `HTTP ${status} with no error details` };
  const kind = kindForWireError(status, error);
  const upstreamCode = upstreamCodeOf(error);
  return {
    message: (error.message ?? error.type ?? `HTTP ${status}`).slice(0, MESSAGE_LIMIT),
    ...(kind !== undefined ? { kind } : {}),
    ...(upstreamCode !== undefined ? { upstreamCode } : {}),
  };
}

/** An error reported inside a 2xx body or stream. */
export function openAIInBandError(provider: string, error: WireError, kind: ProviderError['kind']): ProviderError {
  const code = error.code === null || error.code === undefined ? error.type ?? undefined : String(error.code);
  return new ProviderError(`${provider} reported an error: ${error.message ?? error.type ?? 'unknown error'}`, {
    provider,
    kind,
    ...(code !== undefined ? { upstreamCode: code } : {}),
  });
}

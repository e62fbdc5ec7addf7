import { ProviderError } from '../errors.js';
import type { DescribedError } from '../http.js';
import { ollamaErrorSchema } from './wire.js';

/** Ollama only errors on context overflow when it cannot truncate ("input … exceeds maximum context length"). */
const CONTEXT_TOO_LONG = /exceeds (?:the )?(?:maximum )?context (?:length|window)|context length exceeded/i;

/** What an Ollama error response means; the status says the rest (404 unknown model, 503 busy, …). */
export function describeOllamaError(status: number, body: unknown): DescribedError {
  const parsed = ollamaErrorSchema.safeParse(body);
  // Proxies in front of Ollama may answer with plain text or HTML instead of {"error": …}.
  const message = parsed.success ? parsed.data.error : typeof body === 'string' && body.trim() !== '' ? body.trim().slice(0, 300) : `HTTP ${status}`;
  return CONTEXT_TOO_LONG.test(message) ? { message, kind: 'context_length_exceeded' } : { message };
}

/** The message of an `{"error": …}` body or NDJSON line, if that is what the value is. */
export function ollamaErrorMessage(value: unknown): string | undefined {
  const parsed = ollamaErrorSchema.safeParse(value);
  return parsed.success ? parsed.data.error : undefined;
}

/** An `{"error": …}` that came with a 200: as the whole body (server_error) or as a stream's last line (stream_error). */
export function ollamaInBandError(provider: string, message: string, kind: 'stream_error' | 'server_error'): ProviderError {
  return new ProviderError(`${provider} reported an error: ${message}`, { provider, kind });
}

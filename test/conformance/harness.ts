import type { ProviderAdapter } from '../../src/providers/types.js';

/** One request a fake upstream received, as it arrived on the wire. */
export interface ReceivedRequest {
  method: string;
  /** Path and query string. */
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

/**
 * What the next request to a fake should get. Each fake renders these in its provider's exact wire format
 * (status codes, error bodies, SSE or NDJSON framing, usage fields).
 */
export type Script =
  /** `cacheWriteTokens` (of which `cacheWrite1hTokens` for an hour) and `cachedPromptTokens` are parts of promptTokens; only fakes whose provider reports writes send them. */
  | { kind: 'text'; text: string; promptTokens: number; completionTokens: number; cachedPromptTokens?: number; cacheWriteTokens?: number; cacheWrite1hTokens?: number; reasoningTokens?: number }
  | { kind: 'tool-call'; id: string; name: string; arguments: string; promptTokens: number; completionTokens: number }
  /** The completion stops at the token limit. */
  | { kind: 'length'; text: string; promptTokens: number; completionTokens: number }
  /** The provider blocked the output. */
  | { kind: 'content-filter'; promptTokens: number }
  /**
   * An HTTP error in the provider's own error shape. `retryAfterSeconds` sets the retry-after header; `message`
   * replaces the provider's wording (to echo a given text, as some upstreams echo the key they refused); `status`
   * answers with another status, e.g. 200 for an error envelope inside a successful response.
   */
  | { kind: 'error'; error: ScriptedError; retryAfterSeconds?: number; message?: string; status?: number }
  /**
   * A 2xx stream that sends `textBefore`, then an in-band error event, then closes. `message` replaces the error
   * event's wording; `splitAfter` cuts the wire bytes after the first occurrence of that text and sends the rest
   * in a later TCP write, so the event arrives in two chunks.
   */
  | { kind: 'mid-stream-error'; textBefore: string; message?: string; splitAfter?: string }
  /** A stream that sends `textBefore` and then keeps the connection open without sending more until the client goes away. */
  | { kind: 'hang'; textBefore: string }
  /** A stream whose connection is destroyed after `textBefore`, without any error event. */
  | { kind: 'break'; textBefore: string }
  /** A 200 whose body (or first stream chunk) is not valid JSON. */
  | { kind: 'malformed' };

export type ScriptedError =
  | 'bad_request'
  | 'context_length_exceeded'
  | 'authentication'
  | 'not_found'
  | 'rate_limited'
  | 'server_error'
  | 'overloaded';

export interface FakeUpstream {
  /** The base URL to configure as the provider's base URL (exactly what the `<PROVIDER>_BASE_URL` variable takes). */
  url: string;
  received: ReceivedRequest[];
  /** Queues the reply for the next request; with an empty queue a fake answers with a default text reply. */
  enqueue(script: Script): void;
  /** Responses the fake has started and not finished, whose client is still connected. */
  activeResponses(): number;
  close(): Promise<void>;
}

/** What a provider's request body says, read back in normalized terms so one suite can check every adapter. */
export interface InspectedRequest {
  model: string | undefined;
  stream: boolean;
  systemPrompt: string | undefined;
  /** Texts of user turns, in order. */
  userTexts: string[];
  imageCount: number;
  toolNames: string[];
  maxTokens: number | undefined;
  temperature: number | undefined;
  /** `json_object`, `json_schema` or undefined when no structured output was asked for. */
  responseFormat: 'json_object' | 'json_schema' | undefined;
}

export interface ConformanceTarget {
  name: string;
  /** The provider model id used in the cases. */
  model: string;
  startFake(): Promise<FakeUpstream>;
  createAdapter(baseUrl: string): ProviderAdapter;
  inspect(request: ReceivedRequest): InspectedRequest;
  /** The secret the adapter is configured with: it must never appear in an error message. */
  apiKey: string;
  /** Checks the credential header of a received request the way the provider would. */
  authorized(request: ReceivedRequest): boolean;
  supports: { images: boolean; jsonSchema: boolean; contentFilter: boolean };
  /** Where the provider answers a case with another status than the usual one (Gemini: a bad key is a 400). */
  errorStatus?: Partial<Record<ScriptedError, number>>;
}

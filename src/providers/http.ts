import { Agent, errors as undiciErrors, request, type Dispatcher } from 'undici';
import { ProviderError, kindForStatus, retryAfterMsFromHeaders, type ProviderErrorKind } from './errors.js';

/** One connection pool for all upstream calls, so keep-alive connections are reused across requests. */
let agent: Agent | undefined;
function sharedAgent(): Agent {
  agent ??= new Agent({ keepAliveTimeout: 30_000, keepAliveMaxTimeout: 600_000, connections: 256, pipelining: 1 });
  return agent;
}

/** Closes the shared pool (at shutdown, after in-flight calls have finished). */
export async function closeHttpAgent(): Promise<void> {
  const current = agent;
  agent = undefined;
  await current?.close();
}

export type ResponseHeaders = Record<string, string | string[] | undefined>;

/** What an adapter makes of an error response body: its message and, when it knows better than the status, its kind. */
export interface DescribedError {
  message: string;
  kind?: ProviderErrorKind;
  upstreamCode?: string;
}

export type ErrorDescriber = (status: number, body: unknown, headers: ResponseHeaders) => DescribedError;

export interface UpstreamCall {
  provider: string;
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  body?: unknown;
  signal: AbortSignal;
  describeError: ErrorDescriber;
  /** The provider's own connection pool (ProviderConfig.dispatcher); the shared one when absent. */
  dispatcher?: Dispatcher;
}

function parseJsonOrText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** True for the errors undici and fetch raise when our own AbortSignal fired. */
export function isAbortError(error: unknown, signal: AbortSignal): boolean {
  if (signal.aborted) return true;
  return error instanceof undiciErrors.RequestAbortedError || (error instanceof Error && error.name === 'AbortError');
}

/**
 * Sends one upstream request. Resolves with the response only when its status is 2xx; otherwise reads
 * the error body and throws a typed ProviderError. Network failures become retryable `network` errors.
 * An abort from our signal is rethrown untouched: cancellation is not a provider failure.
 */
export async function callUpstream(call: UpstreamCall): Promise<Dispatcher.ResponseData> {
  let response: Dispatcher.ResponseData;
  try {
    response = await request(call.url, {
      method: call.method,
      headers: call.body === undefined ? call.headers : { 'content-type': 'application/json', ...call.headers },
      body: call.body === undefined ? undefined : JSON.stringify(call.body),
      signal: call.signal,
      dispatcher: call.dispatcher ?? sharedAgent(),
    });
  } catch (error) {
    if (isAbortError(error, call.signal)) throw error;
    throw new ProviderError(`Could not reach ${call.provider}: ${error instanceof Error ? error.message : 'network error'}`, {
      provider: call.provider,
      kind: 'network',
      cause: error,
    });
  }
  if (response.statusCode >= 200 && response.statusCode < 300) return response;

  let text = '';
  try {
    text = await response.body.text();
  } catch (error) {
    if (isAbortError(error, call.signal)) throw error;
  }
  const headers = response.headers as ResponseHeaders;
  const described = call.describeError(response.statusCode, parseJsonOrText(text), headers);
  throw new ProviderError(`${call.provider} returned ${response.statusCode}: ${described.message}`, {
    provider: call.provider,
    kind: described.kind ?? kindForStatus(response.statusCode),
    status: response.statusCode,
    retryAfterMs: retryAfterMsFromHeaders(headers),
    upstreamCode: described.upstreamCode,
  });
}

/** Reads and parses a 2xx JSON body; a body that is not JSON is a malformed response. */
export async function readJson(provider: string, response: Dispatcher.ResponseData, signal: AbortSignal): Promise<unknown> {
  let text: string;
  try {
    text = await response.body.text();
  } catch (error) {
    if (isAbortError(error, signal)) throw error;
    throw new ProviderError(`${provider} closed the connection mid-response`, { provider, kind: 'network', cause: error });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ProviderError(`${provider} sent a body that is not JSON`, { provider, kind: 'malformed_response', cause: error });
  }
}

/**
 * The body of a streaming response as raw chunks, with a connection that breaks mid-stream turned into a
 * retryable `network` ProviderError (an abort from our signal is rethrown as is).
 */
export async function* streamBody(provider: string, response: Dispatcher.ResponseData, signal: AbortSignal): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of response.body) yield chunk as Uint8Array;
  } catch (error) {
    if (isAbortError(error, signal)) throw error;
    throw new ProviderError(`${provider} closed the stream before it finished`, { provider, kind: 'network', cause: error });
  } finally {
    // Leaving the loop early (consumer stopped) must release the socket rather than leave it half-read.
    if (!response.body.destroyed) response.body.destroy();
  }
}

/** Parses one JSON value from wire data, or throws a malformed-response ProviderError. */
export function parseJsonChunk(provider: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ProviderError(`${provider} sent a stream chunk that is not JSON`, { provider, kind: 'malformed_response', cause: error });
  }
}

import { Agent, errors as undiciErrors, request, type Dispatcher } from 'undici';
import { ProviderError, kindForStatus, retryAfterMsFromHeaders, type ProviderErrorKind } from './errors.js';
import { STREAM_LIMITS, type StreamLimits } from './sse.js';

/**
 * The most we read of one upstream body that is not streamed (a response or an error), and the longest line a stream
 * may send: a server that sends more is broken or hostile, and reading it whole let one 200 MB error body raise RSS
 * by ~400 MB. Streams are parsed as they arrive, so their total length is not limited, only a line's.
 *
 * The default matches SWITCHBOARD_MAX_UPSTREAM_BODY_BYTES's; buildApp sets the configured value once at start-up, because
 * adapters are leaves that take no configuration of the gateway's own.
 */
export const DEFAULT_MAX_UPSTREAM_BODY_BYTES = 8 * 1024 * 1024;

let maxUpstreamBodyBytes = DEFAULT_MAX_UPSTREAM_BODY_BYTES;

export function setMaxUpstreamBodyBytes(bytes: number): void {
  maxUpstreamBodyBytes = bytes;
}

export function getMaxUpstreamBodyBytes(): number {
  return maxUpstreamBodyBytes;
}

/** A body past the limit; the caller turns it into a ProviderError that suits what it was reading. */
class BodyTooLarge extends Error {}

/**
 * Reads a whole body, but never more than `limit` bytes: a Content-Length over the limit is refused before reading,
 * and a body that grows past it is destroyed at once, which closes the upstream connection rather than draining it.
 */
async function readCapped(body: Dispatcher.ResponseData['body'], headers: ResponseHeaders, limit: number): Promise<string> {
  const declared = Number(Array.isArray(headers['content-length']) ? headers['content-length'][0] : headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    body.destroy();
    throw new BodyTooLarge();
  }
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of body) {
      const buffer = chunk as Buffer;
      length += buffer.length;
      if (length > limit) throw new BodyTooLarge();
      chunks.push(buffer);
    }
  } finally {
    if (!body.destroyed && length > limit) body.destroy();
  }
  return Buffer.concat(chunks, length).toString('utf8');
}

function describeLimit(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MB` : `${bytes} bytes`;
}

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
  /** CallOptions.upstream, passed on by the adapter: headers to forward and where the outcome goes. */
  observer?: UpstreamObserver;
}

/**
 * Given from above through CallOptions (adapters are leaves and know nothing of tracing): told as each upstream
 * request leaves, it returns the headers to forward with it (x-request-id, W3C traceparent) and hears how it ended.
 */
export interface UpstreamObserver {
  start(request: { method: 'GET' | 'POST'; url: string }): UpstreamObservation;
}

export interface UpstreamObservation {
  headers: Record<string, string>;
  /** The response's status once its headers arrived, or the error when none did (an abort included). */
  end(outcome: { status: number } | { error: unknown }): void;
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
  const observation = call.observer?.start({ method: call.method, url: call.url });
  // The observer's headers come last: a provider's configured headers must not replace the trace they belong to.
  const sent = observation ? { ...call.headers, ...observation.headers } : call.headers;
  let response: Dispatcher.ResponseData;
  try {
    response = await request(call.url, {
      method: call.method,
      headers: call.body === undefined ? sent : { 'content-type': 'application/json', ...sent },
      body: call.body === undefined ? undefined : JSON.stringify(call.body),
      signal: call.signal,
      dispatcher: call.dispatcher ?? sharedAgent(),
    });
  } catch (error) {
    observation?.end({ error });
    if (isAbortError(error, call.signal)) throw error;
    throw new ProviderError(`Could not reach ${call.provider}: ${error instanceof Error ? error.message : 'network error'}`, {
      provider: call.provider,
      kind: 'network',
      cause: error,
    });
  }
  observation?.end({ status: response.statusCode });
  if (response.statusCode >= 200 && response.statusCode < 300) return response;

  let text = '';
  const headers = response.headers as ResponseHeaders;
  const limit = maxUpstreamBodyBytes;
  try {
    text = await readCapped(response.body, headers, limit);
  } catch (error) {
    if (isAbortError(error, call.signal)) throw error;
    if (error instanceof BodyTooLarge) {
      // The status still says what went wrong (a 429 stays a rate limit); only the body is dropped.
      throw new ProviderError(`${call.provider} returned ${response.statusCode} with an error body too large to read (more than ${describeLimit(limit)})`, {
        provider: call.provider,
        kind: kindForStatus(response.statusCode),
        status: response.statusCode,
        retryAfterMs: retryAfterMsFromHeaders(headers),
      });
    }
  }
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
  const limit = maxUpstreamBodyBytes;
  try {
    text = await readCapped(response.body, response.headers as ResponseHeaders, limit);
  } catch (error) {
    if (isAbortError(error, signal)) throw error;
    if (error instanceof BodyTooLarge) {
      // Retryable like any malformed response: the next attempt or candidate may answer normally, and an attempt costs
      // at most `limit` bytes of memory, however many are made.
      throw new ProviderError(`${provider} sent a response body too large to read (more than ${describeLimit(limit)})`, { provider, kind: 'malformed_response', status: response.statusCode });
    }
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
export function streamBody(provider: string, response: Dispatcher.ResponseData, signal: AbortSignal): AsyncGenerator<Uint8Array> & { [STREAM_LIMITS]: StreamLimits } {
  // The framing (src/providers/sse.ts) reads these to bound one line and to name the provider when a line is too long.
  return Object.assign(streamChunks(provider, response, signal), { [STREAM_LIMITS]: { provider, maxLineBytes: maxUpstreamBodyBytes } });
}

async function* streamChunks(provider: string, response: Dispatcher.ResponseData, signal: AbortSignal): AsyncGenerator<Uint8Array> {
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

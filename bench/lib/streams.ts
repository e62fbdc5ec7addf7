/** Stream clients for the benchmarks: OpenAI-style SSE (direct and REST), GraphQL over SSE and over graphql-ws. */
import { performance } from 'node:perf_hooks';
import { createClient, type Client } from 'graphql-ws';
import type { Dispatcher } from 'undici';
import WebSocket from 'ws';
import { parseSse } from '../../src/providers/sse.js';

export interface StreamTiming {
  /** ms from sending the request to the first text token. */
  ttftMs: number;
  /** ms from sending the request to the end of the stream. */
  totalMs: number;
  /** Text events seen. */
  tokens: number;
  /** ms between consecutive text events. */
  gaps: number[];
  done: boolean;
}

interface ChatChunk {
  choices?: Array<{ delta?: { content?: string | null } }>;
}

/** An OpenAI-style streamed chat completion (`data:` chunks, then `[DONE]`). */
export async function openAIStream(dispatcher: Dispatcher, path: string, body: string, headers: Record<string, string>): Promise<StreamTiming> {
  const started = performance.now();
  const response = await dispatcher.request({ method: 'POST', path, body, headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers } });
  if (response.statusCode !== 200) throw new Error(`HTTP ${response.statusCode}: ${(await response.body.text()).slice(0, 300)}`);
  let first = Number.NaN;
  let last = Number.NaN;
  let tokens = 0;
  let done = false;
  const gaps: number[] = [];
  for await (const event of parseSse(response.body as AsyncIterable<Uint8Array>)) {
    if (event.data === '[DONE]') {
      done = true;
      continue;
    }
    const chunk = JSON.parse(event.data) as ChatChunk;
    const text = chunk.choices?.[0]?.delta?.content;
    if (typeof text === 'string' && text !== '') {
      const now = performance.now();
      if (tokens === 0) first = now;
      else gaps.push(now - last);
      last = now;
      tokens++;
    }
  }
  return { ttftMs: first - started, totalMs: performance.now() - started, tokens, gaps, done };
}

export const COMPLETION_STREAM = `subscription BenchStream($input: CompletionInput!) {
  completionStream(input: $input) {
    __typename
    ... on CompletionDelta { text }
    ... on CompletionDone { finishReason }
    ... on CompletionError { code message }
  }
}`;

interface StreamPayload {
  data?: { completionStream?: { __typename?: string; text?: string | null; code?: string; message?: string } | null } | null;
  errors?: Array<{ message: string }>;
}

class EventTracker {
  readonly started = performance.now();
  first = Number.NaN;
  last = Number.NaN;
  tokens = 0;
  done = false;
  gaps: number[] = [];

  /** Returns an error message for a CompletionError or GraphQL error. */
  take(payload: StreamPayload): string | null {
    if (payload.errors?.length) return payload.errors.map((error) => error.message).join('; ');
    const event = payload.data?.completionStream;
    if (!event) return null;
    if (event.__typename === 'CompletionDelta' && typeof event.text === 'string' && event.text !== '') {
      const now = performance.now();
      if (this.tokens === 0) this.first = now;
      else this.gaps.push(now - this.last);
      this.last = now;
      this.tokens++;
    } else if (event.__typename === 'CompletionDone') {
      this.done = true;
    } else if (event.__typename === 'CompletionError') {
      return `CompletionError ${event.code ?? ''}: ${event.message ?? ''}`;
    }
    return null;
  }

  timing(): StreamTiming {
    return { ttftMs: this.first - this.started, totalMs: performance.now() - this.started, tokens: this.tokens, gaps: this.gaps, done: this.done };
  }
}

/** A GraphQL subscription over SSE (Yoga's distinct-connections mode). */
export async function graphqlSseStream(dispatcher: Dispatcher, variables: Record<string, unknown>, headers: Record<string, string> = {}): Promise<StreamTiming> {
  const tracker = new EventTracker();
  const response = await dispatcher.request({
    method: 'POST',
    path: '/graphql',
    body: JSON.stringify({ query: COMPLETION_STREAM, variables }),
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers },
  });
  if (response.statusCode !== 200) throw new Error(`HTTP ${response.statusCode}: ${(await response.body.text()).slice(0, 300)}`);
  for await (const event of parseSse(response.body as AsyncIterable<Uint8Array>)) {
    if (event.event === 'complete') break;
    if ((event.event !== 'next' && event.event !== undefined) || event.data === '') continue;
    const failure = tracker.take(JSON.parse(event.data) as StreamPayload);
    if (failure !== null) throw new Error(failure);
  }
  // Drain whatever follows `complete` so the connection can be reused.
  await response.body.dump();
  return tracker.timing();
}

/** A graphql-ws client that keeps one socket open across operations. */
export function wsClient(url: string, authorization = ''): Client {
  return createClient({ url, webSocketImpl: WebSocket, retryAttempts: 0, lazy: false, keepAlive: 0, ...(authorization ? { connectionParams: { authorization } } : {}) });
}

/** Resolves once the client's socket is open and acknowledged (or rejects after `timeoutMs`). */
export function connected(client: Client, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolveConnected, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error('graphql-ws socket not connected in time'));
    }, timeoutMs);
    const off = client.on('connected', () => {
      clearTimeout(timer);
      off();
      resolveConnected();
    });
  });
}

/** A GraphQL subscription over graphql-ws; the timing includes the client-visible gaps between text events. */
export async function graphqlWsStream(client: Client, variables: Record<string, unknown>): Promise<StreamTiming> {
  const tracker = new EventTracker();
  await new Promise<void>((resolveStream, reject) => {
    client.subscribe<StreamPayload['data']>(
      { query: COMPLETION_STREAM, variables },
      {
        next: (payload) => {
          const failure = tracker.take(payload as StreamPayload);
          if (failure !== null) reject(new Error(failure));
        },
        error: (error: unknown) => reject(error instanceof Error ? error : new Error(describe(error))),
        complete: () => resolveStream(),
      },
    );
  });
  return tracker.timing();
}

function describe(error: unknown): string {
  if (Array.isArray(error)) return error.map((item) => describe(item)).join('; ');
  if (typeof error === 'object' && error !== null) {
    const record = error as { message?: unknown; code?: unknown; reason?: unknown };
    if (typeof record.message === 'string') return record.message;
    if (typeof record.code === 'number') return `socket closed ${record.code} ${String(record.reason ?? '')}`;
  }
  return String(error);
}

/** `count` words, for a reply of `count` + 2 pieces from the fake ("You said: …") or `count` from local/echo. */
export function words(count: number): string {
  return Array.from({ length: count }, (_unused, index) => `word${index + 1}`).join(' ');
}

import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { parseSse } from '../../src/providers/sse.js';

export interface ExecutionResultLike {
  data?: Record<string, unknown> | null;
  errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
}

/** `keepOpen` holds one socket open across operations (graphql-ws closes an idle lazy socket at once). */
export function wsClient(url: string, connectionParams: Record<string, unknown> = {}, options: { keepOpen?: boolean } = {}): Client {
  return createClient({ url, webSocketImpl: WebSocket, connectionParams, retryAttempts: 0, lazy: !options.keepOpen });
}

/** Runs a subscription over graphql-ws and collects its results; `stopWhen` ends it early (unsubscribing). */
export async function subscribeWs(
  client: Client,
  query: string,
  variables: Record<string, unknown> = {},
  stopWhen?: (result: ExecutionResultLike, index: number) => boolean,
): Promise<ExecutionResultLike[]> {
  const results: ExecutionResultLike[] = [];
  const iterator = client.iterate<Record<string, unknown>>({ query, variables });
  for await (const result of iterator) {
    results.push(result as ExecutionResultLike);
    if (stopWhen?.(result as ExecutionResultLike, results.length - 1)) break;
  }
  return results;
}

/** Runs a subscription over SSE (Yoga's distinct-connections mode) and collects the `next` payloads. */
export async function subscribeSse(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  options: { headers?: Record<string, string>; stopWhen?: (result: ExecutionResultLike, index: number) => boolean } = {},
): Promise<ExecutionResultLike[]> {
  const controller = new AbortController();
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...options.headers },
    body: JSON.stringify({ query, variables }),
    signal: controller.signal,
  });
  const results: ExecutionResultLike[] = [];
  if (!response.body) return results;
  try {
    for await (const event of parseSse(readChunks(response.body))) {
      if (event.event === 'complete') break;
      if (event.event !== 'next' && event.event !== undefined) continue;
      if (event.data === '') continue;
      const result = JSON.parse(event.data) as ExecutionResultLike;
      results.push(result);
      if (options.stopWhen?.(result, results.length - 1)) {
        controller.abort();
        break;
      }
    }
  } catch (error) {
    if (!controller.signal.aborted) throw error;
  }
  return results;
}

async function* readChunks(body: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

export async function waitFor<T>(probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

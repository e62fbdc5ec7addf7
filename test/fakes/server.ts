import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ReceivedRequest, Script } from '../conformance/harness.js';

export interface FakeRequestContext {
  request: ReceivedRequest;
  req: IncomingMessage;
  res: ServerResponse;
  /** The next scripted reply, or undefined when none was queued. */
  script: Script | undefined;
}

export interface FakeServer {
  url: string;
  received: ReceivedRequest[];
  enqueue(script: Script): void;
  activeResponses(): number;
  close(): Promise<void>;
}

/**
 * The plumbing every fake upstream shares: an HTTP server on 127.0.0.1 port 0 that records each request
 * (parsed JSON body), hands the next scripted reply to the provider-specific handler, and counts responses
 * still in progress so tests can see an upstream connection closed by cancellation.
 */
export async function startFakeServer(handle: (context: FakeRequestContext) => void | Promise<void>): Promise<FakeServer> {
  const received: ReceivedRequest[] = [];
  const queue: Script[] = [];
  let active = 0;

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: unknown = text;
      if (text !== '') {
        try {
          body = JSON.parse(text);
        } catch {
          body = text;
        }
      }
      const request: ReceivedRequest = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body };
      received.push(request);
      active++;
      onResponseEnd(res, () => active--);
      const script = queue.shift();
      if (script?.kind === 'mid-stream-error' && script.splitAfter !== undefined) splitWrites(res, script.splitAfter);
      Promise.resolve(handle({ request, req, res, script })).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`fake upstream failed: ${String(error)}`);
      });
    });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    received,
    enqueue: (script) => queue.push(script),
    activeResponses: () => active,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Makes the response's bytes arrive in two pieces: whatever is written up to the end of the first occurrence of
 * `marker` goes out at once, the rest (and the end of the response) after a pause, so the client reads them as
 * separate chunks. Fakes keep writing as usual; only `write` and `end` are wrapped.
 */
function splitWrites(res: ServerResponse, marker: string): void {
  const write = res.write.bind(res) as (chunk: string | Buffer) => boolean;
  const end = res.end.bind(res) as (chunk?: string | Buffer) => ServerResponse;
  let split = false;
  let chain: Promise<void> = Promise.resolve();
  const later = (step: () => void): void => {
    chain = chain.then(step);
  };
  const send = (chunk: string | Buffer): void => {
    const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    const at = split ? -1 : text.indexOf(marker);
    if (at === -1) {
      later(() => void write(text));
      return;
    }
    split = true;
    later(() => void write(text.slice(0, at + marker.length)));
    chain = chain.then(() => new Promise((resolve) => setTimeout(resolve, 40)));
    later(() => void write(text.slice(at + marker.length)));
  };
  const callbackOf = (values: unknown[]): (() => void) | undefined => {
    const last = values.at(-1);
    return typeof last === 'function' ? (last as () => void) : undefined;
  };
  res.write = ((chunk: string | Buffer, ...rest: unknown[]) => {
    send(chunk);
    const callback = callbackOf(rest);
    if (callback) later(callback);
    return true;
  }) as typeof res.write;
  res.end = ((chunk?: unknown, ...rest: unknown[]) => {
    if (typeof chunk === 'string' || Buffer.isBuffer(chunk)) send(chunk);
    const callback = callbackOf(typeof chunk === 'function' ? [chunk] : rest);
    later(() => {
      end();
      callback?.();
    });
    return res;
  }) as typeof res.end;
}

/** Calls `done` once when the response finishes or its connection closes, whichever comes first. */
export function onResponseEnd(res: ServerResponse, done: () => void): void {
  let called = false;
  const once = (): void => {
    if (called) return;
    called = true;
    done();
  };
  res.on('finish', once);
  res.on('close', once);
}

/** Splits a text into word-sized pieces (keeping the spaces), as a model streams it. */
export function streamPieces(text: string): string[] {
  return text.match(/\S+\s*|\s+/g) ?? [];
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text).toString(), ...headers });
  res.end(text);
}

import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { onResponseEnd } from './server.js';
import type { FakeUpstream } from '../conformance/harness.js';

export interface DelayedUpstream extends FakeUpstream {
  /** Delay before the upstream's answer starts (its time to first byte, so its time to first token). */
  setDelay(ms: number): void;
  readonly delayMs: number;
  /** Requests that reached the proxy, whether or not they got past the delay. */
  arrivals(): number;
  /**
   * The next request gets this status from the proxy itself (after the delay), with an OpenAI-shaped error body,
   * and never reaches the fake: for statuses the fakes do not script, such as Anthropic's 529.
   */
  failNext(status: number, headers?: Record<string, string>): void;
  /**
   * Holds every request that arrives from now on (after its delay) until the returned function is called: for
   * tests that need a request in flight while they do something else, without guessing how long that takes.
   */
  hold(): () => void;
}

/**
 * A proxy in front of a fake upstream that holds each request for a settable delay before forwarding it, so tests
 * and benchmarks can make one endpoint slow without changing the fakes. `url` keeps the fake's API path, so it
 * goes straight into `<PROVIDER>_BASE_URL`; scripting (`enqueue`) and `received` are the fake's own. When the
 * client goes away, the forwarded request is destroyed too, so the fake sees its connection close;
 * `activeResponses()` counts the proxy's responses still open.
 */
export async function startDelayedUpstream(target: FakeUpstream, initialDelayMs = 0): Promise<DelayedUpstream> {
  const targetUrl = new URL(target.url);
  let delayMs = initialDelayMs;
  let active = 0;
  let arrived = 0;
  const failures: Array<{ status: number; headers: Record<string, string> }> = [];
  /** Requests waiting for release while held; null when not holding. */
  let held: Array<() => void> | null = null;

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    arrived++;
    active++;
    onResponseEnd(res, () => active--);

    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const failure = failures.shift();
      const timer = setTimeout(() => (held ? held.push(forward) : forward()), delayMs);
      res.on('close', () => clearTimeout(timer));

      function forward(): void {
        if (res.destroyed) return;
        if (failure) {
          const body = JSON.stringify({ error: { message: `Injected ${failure.status}`, type: 'server_error', param: null, code: null } });
          res.writeHead(failure.status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...failure.headers });
          res.end(body);
          return;
        }
        const upstream = httpRequest(
          { host: targetUrl.hostname, port: targetUrl.port, method: req.method, path: req.url, headers: req.headers },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
            answer.on('error', () => res.destroy());
            // The fake broke the connection mid-answer: break ours the same way.
            answer.on('aborted', () => res.destroy());
          },
        );
        upstream.on('error', () => res.destroy());
        res.on('close', () => {
          if (!res.writableFinished) upstream.destroy();
        });
        upstream.end(Buffer.concat(chunks));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}${targetUrl.pathname}`,
    received: target.received,
    enqueue: (script) => target.enqueue(script),
    activeResponses: () => active,
    arrivals: () => arrived,
    failNext: (status, headers = {}) => {
      failures.push({ status, headers });
    },
    hold: () => {
      const waiting: Array<() => void> = [];
      held = waiting;
      return () => {
        if (held === waiting) held = null;
        for (const forward of waiting.splice(0)) forward();
      };
    },
    setDelay: (ms) => {
      delayMs = ms;
    },
    get delayMs() {
      return delayMs;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

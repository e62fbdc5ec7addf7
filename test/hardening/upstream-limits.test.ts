import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/app.js';

/**
 * An upstream that answers with far more than any real provider would: a 200 MB error body, a 200 MB success body and
 * an SSE line that never ends. Each is generated as it is sent (never held in memory here), with backpressure, and
 * stops as soon as the gateway closes the connection, so the test sees how much the gateway read.
 */
const HUGE_BYTES = 200 * 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 'x');
const API_KEY = 'sk-upstream-limits-0123456789abcdef';

type Mode = 'error-body' | 'success-body' | 'endless-line';

interface Sent {
  mode: Mode;
  bytes: number;
  /** True when the gateway closed the connection before the body was complete. */
  cutShort: boolean;
  done: Promise<void>;
}

async function pump(res: ServerResponse, prefix: string, sent: Sent): Promise<void> {
  res.write(prefix);
  sent.bytes += prefix.length;
  while (sent.bytes < HUGE_BYTES) {
    if (res.destroyed || res.writableEnded) return;
    sent.bytes += CHUNK.length;
    if (!res.write(CHUNK)) {
      await new Promise<void>((resolve) => {
        const settle = (): void => {
          res.off('drain', settle);
          res.off('close', settle);
          resolve();
        };
        res.on('drain', settle);
        res.on('close', settle);
      });
    }
  }
  res.end();
}

async function startHugeUpstream(): Promise<{ url: string; next(mode: Mode): void; sent: Sent[]; close(): Promise<void> }> {
  const queue: Mode[] = [];
  const sent: Sent[] = [];
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (!req.url?.endsWith('/chat/completions')) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not here"}}');
        return;
      }
      const mode = queue.shift() ?? 'error-body';
      const record: Sent = { mode, bytes: 0, cutShort: false, done: Promise.resolve() };
      sent.push(record);
      res.on('close', () => {
        if (!res.writableFinished) record.cutShort = true;
      });
      if (mode === 'error-body') {
        res.writeHead(500, { 'content-type': 'application/json' });
        record.done = pump(res, '{"error":{"message":"', record);
      } else if (mode === 'success-body') {
        res.writeHead(200, { 'content-type': 'application/json' });
        record.done = pump(res, '{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"', record);
      } else {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        record.done = pump(res, 'data: {"id":"chatcmpl-1","choices":[{"index":0,"delta":{"content":"', record);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    next: (mode) => queue.push(mode),
    sent,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const MB = 1024 * 1024;

describe('upstream bodies are bounded', () => {
  let upstream: Awaited<ReturnType<typeof startHugeUpstream>>;
  let server: TestServer;

  beforeAll(async () => {
    upstream = await startHugeUpstream();
    server = await startTestServer({ OPENAI_API_KEY: API_KEY, OPENAI_BASE_URL: upstream.url, SWITCHBOARD_MAX_RETRIES: '0' });
  });
  afterAll(async () => {
    await server.stop();
    await upstream.close();
  });

  async function complete(stream: boolean): Promise<{ status: number; text: string }> {
    const response = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }], stream }),
    });
    return { status: response.status, text: await response.text() };
  }

  it.each([
    ['a 200 MB error body', 'error-body', false],
    ['a 200 MB success body', 'success-body', false],
    ['an SSE line that never ends', 'endless-line', true],
  ] as const)('%s: a clear error, the connection closed, RSS bounded', async (name, mode, stream) => {
    upstream.next(mode);
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 5);
    const answer = await complete(stream);
    const record = upstream.sent.at(-1)!;
    await record.done;
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
    console.log(`${name}: gateway answered ${answer.status}; upstream sent ${(record.bytes / MB).toFixed(1)} MB before the connection closed; RSS ${(before / MB).toFixed(0)} → peak ${(peak / MB).toFixed(0)} MB (+${((peak - before) / MB).toFixed(0)} MB)`);

    // The upstream connection was closed early, having sent a small part of the body.
    expect(record.mode).toBe(mode);
    expect(record.cutShort).toBe(true);
    expect(record.bytes).toBeLessThan(64 * MB);
    expect(peak - before).toBeLessThan(50 * MB);
    // The client is told the provider sent too much, as a provider error.
    if (stream) {
      expect(answer.text).toContain('too large');
      expect(answer.text).toContain('openai');
    } else {
      expect(answer.status).toBe(502);
      const body = JSON.parse(answer.text) as { error: { message: string; code: string } };
      expect(body.error.message).toMatch(/openai.*(too large|more than)/i);
    }
    // The gateway still serves.
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  }, 120_000);
});

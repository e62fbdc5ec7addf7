import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeUpstream } from '../conformance/harness.js';
import { FAKE_OPENAI_KEY, startFakeOpenAI } from '../fakes/openai.js';
import { startTestServer, type TestServer } from '../helpers/app.js';
import { rejection } from '../helpers/errors.js';
import { subscribeWs, waitFor, wsClient } from '../helpers/subscriptions.js';
import { parsePrometheusText } from '../observability/prometheus-text.js';

/**
 * With SWITCHBOARD_MAX_INFLIGHT=2 and two upstream calls hanging, exactly two requests are in flight: the third is
 * answered 503 with Retry-After at once (HTTP and a new WebSocket operation alike), probes and scrapes still
 * answer, and once the hanging calls end requests pass again.
 */
describe('load shedding', () => {
  let server: TestServer;
  let openai: FakeUpstream;

  beforeAll(async () => {
    openai = await startFakeOpenAI();
    server = await startTestServer({ OPENAI_API_KEY: FAKE_OPENAI_KEY, OPENAI_BASE_URL: openai.url, SWITCHBOARD_MAX_INFLIGHT: '2' });
  });
  afterAll(async () => {
    await server.stop();
    await openai.close();
  });

  const chat = (stream: boolean, signal?: AbortSignal): Promise<Response> =>
    fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: stream ? 'openai/gpt-4o-mini' : 'local/echo', stream, messages: [{ role: 'user', content: 'hi' }] }),
      ...(signal ? { signal } : {}),
    });
  const shedCount = async (): Promise<number> =>
    parsePrometheusText(await (await fetch(`${server.url}/metrics`)).text()).value('switchboard_shed_requests_total', { transport: 'http' }) ?? 0;

  it('admits exactly two, sheds the third with 503 + Retry-After at once, keeps probes up, and admits again once they end', async () => {
    expect(server.app.services.config.limits.maxInflight).toBe(2);
    // One in flight is below the bound: it is admitted and answered.
    expect((await chat(false)).status).toBe(200);

    openai.enqueue({ kind: 'hang', textBefore: 'one' });
    openai.enqueue({ kind: 'hang', textBefore: 'two' });
    const first = new AbortController();
    const second = new AbortController();
    const hanging = [await chat(true, first.signal), await chat(true, second.signal)];
    // Both were admitted: the bound is not below two.
    expect(hanging.map((response) => response.status)).toEqual([200, 200]);
    await waitFor(() => (openai.activeResponses() === 2 ? true : undefined));

    const shedBefore = await shedCount();
    const started = performance.now();
    const third = await chat(false);
    const elapsed = performance.now() - started;
    expect(third.status).toBe(503);
    expect(third.headers.get('retry-after')).toBe('1');
    expect(((await third.json()) as { error: { code: string } }).error.code).toBe('overloaded');
    // At once, not after queueing behind the hanging calls.
    expect(elapsed).toBeLessThan(500);
    expect(await shedCount()).toBe(shedBefore + 1);

    // A new WebSocket operation is refused the same way, in-band.
    const client = wsClient(server.wsUrl);
    try {
      // graphql-ws rejects the operation with the errors of its `error` message.
      const refused = JSON.stringify(await rejection(subscribeWs(client, '{ __typename }')));
      expect(refused).toContain('"code":"RATE_LIMITED"');
      expect(refused).toContain('"retryAfterMs":1000');
    } finally {
      await client.dispose();
    }
    const exposition = parsePrometheusText(await (await fetch(`${server.url}/metrics`)).text());
    expect(exposition.value('switchboard_shed_requests_total', { transport: 'websocket' })).toBe(1);

    // Probes and scrapes are exempt.
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    expect((await fetch(`${server.url}/metrics`)).status).toBe(200);

    // The hanging calls end (their callers leave); their slots come back and requests pass again.
    first.abort();
    second.abort();
    await waitFor(() => (openai.activeResponses() === 0 ? true : undefined));
    const again = await waitFor(async () => {
      const response = await chat(false);
      return response.status === 200 ? response : undefined;
    });
    expect(again.status).toBe(200);
    // Two at once fit again.
    expect((await Promise.all([chat(false), chat(false)])).map((response) => response.status)).toEqual([200, 200]);
  });
});

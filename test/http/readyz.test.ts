import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FAKE_OPENAI_KEY, startFakeOpenAI } from '../fakes/openai.js';
import type { FakeUpstream } from '../conformance/harness.js';
import { startTestServer, type TestServer, sqliteOf } from '../helpers/app.js';
import { waitFor } from '../helpers/subscriptions.js';

interface ReadyBody {
  status: string;
  failing?: string[];
  checks: Record<string, { ok: boolean; reason?: string }>;
}

/**
 * Once stop() begins the gateway no longer accepts connections, so a probe during shutdown is handed to the
 * gateway's own request listener by a side server: the same dispatcher, reached without the closed listener.
 */
async function sideDoor(gateway: Server): Promise<{ url: string; close(): Promise<void> }> {
  const listener = gateway.listeners('request')[0] as (req: IncomingMessage, res: ServerResponse) => void;
  const side = createServer((req, res) => listener(req, res));
  await new Promise<void>((resolve) => side.listen(0, '127.0.0.1', resolve));
  const { port } = side.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        side.closeAllConnections();
        side.close(() => resolve());
      }),
  };
}

/** Closes the SQLite handle under the running gateway (drizzle keeps it as `$client`, untyped in Db). */
function closeDatabase(server: TestServer): void {
  const client: unknown = Reflect.get(sqliteOf(server.app.services), '$client');
  if (typeof client !== 'object' || client === null || !('close' in client) || typeof client.close !== 'function') throw new Error('no SQLite handle to close');
  client.close();
}

describe('GET /readyz', () => {
  let server: TestServer | undefined;
  let openai: FakeUpstream | undefined;

  afterEach(async () => {
    await server?.stop();
    await openai?.close();
    server = undefined;
    openai = undefined;
  });

  it('is 200 with every check named when the database answers, migrations are applied and the gateway is not draining', async () => {
    server = await startTestServer();
    const response = await fetch(`${server.url}/readyz`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as ReadyBody;
    expect(body.status).toBe('ready');
    expect(body.checks).toEqual({ database: { ok: true }, migrations: { ok: true }, draining: { ok: true } });
  });

  it('is 503 naming the database when it cannot be queried', async () => {
    server = await startTestServer();
    // Closed under the running gateway, as a lost volume would leave it.
    closeDatabase(server);
    const response = await fetch(`${server.url}/readyz`);
    expect(response.status).toBe(503);
    const body = (await response.json()) as ReadyBody;
    expect(body.failing).toContain('database');
    expect(body.checks['database']?.ok).toBe(false);
    // Liveness is a different question: the process still serves.
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it('is 503 naming draining while stop() waits for an in-flight stream', async () => {
    openai = await startFakeOpenAI();
    server = await startTestServer({ OPENAI_API_KEY: FAKE_OPENAI_KEY, OPENAI_BASE_URL: openai.url, SWITCHBOARD_SHUTDOWN_GRACE_MS: '5000' });
    const side = await sideDoor(server.app.server);
    try {
      openai.enqueue({ kind: 'hang', textBefore: 'still thinking' });
      const controller = new AbortController();
      const stream = await fetch(`${server.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'openai/gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
        signal: controller.signal,
      });
      expect(stream.status).toBe(200);
      expect((await fetch(`${side.url}/readyz`)).status).toBe(200);

      const stopping = server.stop();
      const body = await waitFor(async () => {
        const response = await fetch(`${side.url}/readyz`);
        return response.status === 503 ? ((await response.json()) as ReadyBody) : undefined;
      });
      expect(body.failing).toEqual(['draining']);
      expect(body.checks['draining']).toEqual({ ok: false, reason: 'shutting down' });
      controller.abort();
      await stopping;
    } finally {
      await side.close();
    }
  });
});

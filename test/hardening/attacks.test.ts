import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/app.js';
import { waitFor } from '../helpers/subscriptions.js';
import { aliasBomb, deepQuery, NORMAL_QUERY } from './queries.js';
import { openSocket, rawRequest } from './raw.js';

interface WsMessage {
  type: string;
  id?: string;
  payload?: unknown;
}

/** A graphql-transport-ws socket driven by hand, to send what no well-behaved client would. */
async function rawWebSocket(url: string, options: { init?: boolean; autoPong?: boolean } = {}): Promise<{ socket: WebSocket; messages: WsMessage[]; closed: Promise<number> }> {
  const socket = new WebSocket(url, 'graphql-transport-ws', { autoPong: options.autoPong ?? true });
  const messages: WsMessage[] = [];
  socket.on('message', (data: Buffer) => messages.push(JSON.parse(data.toString('utf8')) as WsMessage));
  const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  if (options.init !== false) {
    socket.send(JSON.stringify({ type: 'connection_init', payload: {} }));
    await Promise.race([waitFor(() => messages.some((message) => message.type === 'connection_ack') || undefined), closed]);
  }
  return { socket, messages, closed };
}

describe('attacks are refused while normal requests keep being served', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      SWITCHBOARD_HEADERS_TIMEOUT_MS: '1000',
      SWITCHBOARD_REQUEST_TIMEOUT_MS: '5000',
      SWITCHBOARD_CONNECTIONS_CHECK_MS: '200',
      SWITCHBOARD_WS_INIT_TIMEOUT_MS: '1000',
      SWITCHBOARD_WS_MAX_CONNECTIONS_PER_KEY: '3',
    });
  });
  afterAll(async () => {
    await server.stop();
  });

  const normalQuerySucceeds = async (): Promise<void> => {
    const body = await server.graphql(NORMAL_QUERY);
    expect(body).toEqual({ data: { model: { id: 'local/echo', name: expect.any(String) } } });
  };

  it('a depth-100 query', async () => {
    const body = await server.graphql(deepQuery(100));
    expect(body.data ?? null).toBeNull();
    expect(body.errors?.every((error) => error.extensions?.['code'] === 'BAD_REQUEST')).toBe(true);
    expect(body.errors?.some((error) => /depth limit of 12 exceeded, found 10\d/.test(error.message))).toBe(true);
    await normalQuerySucceeds();
  });

  it('an alias bomb', async () => {
    const body = await server.graphql(aliasBomb(1000));
    expect(body.data ?? null).toBeNull();
    expect(body.errors?.[0]).toMatchObject({ message: expect.stringMatching(/aliases limit of 30 exceeded, found 1000/i), extensions: { code: 'BAD_REQUEST' } });
    const heavier = await server.graphql(`query Bomb { ${Array.from({ length: 1000 }, (_, index) => `m${index}: model(id: "local/echo") { id }`).join(' ')} }`);
    expect(heavier.errors?.[0]).toMatchObject({ message: expect.stringMatching(/token limit/i), extensions: { code: 'BAD_REQUEST' } });
    await normalQuerySucceeds();
  });

  it('a 50 MB body, answered 413 while a normal query runs beside it', async () => {
    const megabyte = Buffer.alloc(1024 * 1024, 0x20);
    const [oversized] = await Promise.all([
      rawRequest(`${server.url}/graphql`, {
        headers: { 'content-type': 'application/json', 'content-length': 50 * 1024 * 1024 },
        chunks: Array.from({ length: 50 }, () => megabyte),
      }),
      normalQuerySucceeds(),
    ]);
    expect(oversized.status).toBe(413);
    expect(JSON.parse(oversized.body)).toMatchObject({ errors: [{ extensions: { code: 'BAD_REQUEST' } }] });
    await normalQuerySucceeds();
  });

  it('a slowloris connection dribbling its headers is cut off (408) without stalling anyone', async () => {
    const slow = openSocket(server.url);
    slow.write('POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    let closed = false;
    void slow.closed.then(() => {
      closed = true;
    });
    const dribble = setInterval(() => {
      if (!closed) slow.write(`x-dribble-${Date.now()}: 1\r\n`);
    }, 100);
    try {
      await normalQuerySucceeds();
      // The headers timeout is 1 s, checked every 200 ms; the bound here is loose for a loaded machine.
      const received = await Promise.race([slow.closed, new Promise<string>((_, reject) => setTimeout(() => reject(new Error('slowloris socket still open after 15 s')), 15_000))]);
      expect(received).toMatch(/^HTTP\/1\.1 408/);
    } finally {
      clearInterval(dribble);
      slow.destroy();
    }
    await normalQuerySucceeds();
  }, 20_000);

  it('1,000 subscriptions on one socket: the 101st onwards are refused, the first 100 keep running', async () => {
    const { socket, messages, closed } = await rawWebSocket(server.wsUrl);
    try {
      for (let index = 0; index < 1000; index++) {
        socket.send(JSON.stringify({ id: `s${index}`, type: 'subscribe', payload: { query: 'subscription Usage { usageEvents { id } }' } }));
      }
      const refusals = await waitFor(() => {
        const errors = messages.filter((message) => message.type === 'error');
        return errors.length >= 900 ? errors : undefined;
      }, 15_000);
      expect(refusals).toHaveLength(900);
      expect(refusals[0]?.payload).toEqual([expect.objectContaining({ message: expect.stringMatching(/Too many operations on this WebSocket \(limit 100\)/), extensions: expect.objectContaining({ code: 'BAD_REQUEST' }) })]);
      expect(new Set(refusals.map((message) => message.id))).toEqual(new Set(Array.from({ length: 900 }, (_, index) => `s${index + 100}`)));
      expect(socket.readyState).toBe(WebSocket.OPEN);
      await normalQuerySucceeds();
      // Completing one frees a slot for the next operation on the same socket.
      socket.send(JSON.stringify({ id: 's0', type: 'complete' }));
      socket.send(JSON.stringify({ id: 'after', type: 'subscribe', payload: { query: '{ __typename }' } }));
      const next = await waitFor(() => messages.find((message) => message.id === 'after'), 5000);
      expect(next).toMatchObject({ type: 'next', payload: { data: { __typename: 'Query' } } });
    } finally {
      // Awaited, so the per-key connection count below starts from zero.
      socket.close();
      await closed;
    }
  }, 30_000);

  it('a WebSocket that never sends connection_init is closed (4408)', async () => {
    const { closed } = await rawWebSocket(server.wsUrl, { init: false });
    expect(await closed).toBe(4408);
    await normalQuerySucceeds();
  }, 10_000);

  it('refuses more WebSocket connections per key than allowed (4429), and counts closed ones back', async () => {
    const open = await Promise.all([rawWebSocket(server.wsUrl), rawWebSocket(server.wsUrl), rawWebSocket(server.wsUrl)]);
    try {
      for (const connection of open) expect(connection.messages[0]?.type).toBe('connection_ack');
      const extra = await rawWebSocket(server.wsUrl);
      expect(await extra.closed).toBe(4429);
      open[0]?.socket.close();
      await open[0]?.closed;
      const replacement = await rawWebSocket(server.wsUrl);
      expect(replacement.messages[0]?.type).toBe('connection_ack');
      replacement.socket.close();
      await normalQuerySucceeds();
    } finally {
      for (const connection of open) connection.socket.close();
    }
  }, 10_000);
});

describe('dead WebSockets', () => {
  let server: TestServer;
  beforeAll(async () => {
    // Pings this frequent would also cut a healthy client stalled by a busy test machine, so they get their own server.
    server = await startTestServer({ SWITCHBOARD_WS_KEEPALIVE_MS: '300' });
  });
  afterAll(async () => {
    await server.stop();
  });

  it('a WebSocket that stops answering pings is terminated', async () => {
    const { closed, messages } = await rawWebSocket(server.wsUrl, { autoPong: false });
    expect(messages[0]?.type).toBe('connection_ack');
    // Terminated, not closed cleanly: the server gave up on it.
    expect(await closed).toBe(1006);
    expect((await server.graphql('{ __typename }')).data).toEqual({ __typename: 'Query' });
  }, 10_000);
});

import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/app.js';
import { rawRequest } from './raw.js';

/** Resolves with the HTTP status of a WebSocket handshake: 101 when it opened. */
function upgradeStatus(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, 'graphql-transport-ws', { headers });
    socket.once('open', () => {
      socket.close();
      resolve(101);
    });
    socket.once('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      socket.terminate();
    });
    socket.once('error', (error) => reject(error));
  });
}

const query = JSON.stringify({ query: '{ __typename }' });

describe('who may reach an open-mode gateway', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ SWITCHBOARD_CORS_ORIGINS: 'https://app.example.com' });
  });
  afterAll(async () => {
    await server.stop();
  });

  it('refuses a request addressed to another host name (DNS rebinding), answers loopback names', async () => {
    const headers = { 'content-type': 'application/json' };
    const rebound = await rawRequest(`${server.url}/graphql`, { headers: { ...headers, host: 'attacker.example:4000' }, chunks: [query] });
    expect(rebound.status).toBe(403);
    expect(rebound.body).toMatch(/Open local mode only answers requests addressed to localhost/);
    for (const host of ['localhost:4000', '127.0.0.1', '[::1]:4000']) {
      const local = await rawRequest(`${server.url}/graphql`, { headers: { ...headers, host }, chunks: [query] });
      expect(local.status, host).toBe(200);
    }
  });

  it('opens WebSockets for non-browser clients, its own origin and listed origins; refuses other pages', async () => {
    expect(await upgradeStatus(server.wsUrl, {})).toBe(101);
    expect(await upgradeStatus(server.wsUrl, { origin: server.url })).toBe(101);
    expect(await upgradeStatus(server.wsUrl, { origin: 'https://app.example.com' })).toBe(101);
    expect(await upgradeStatus(server.wsUrl, { origin: 'https://evil.example' })).toBe(403);
    expect(await upgradeStatus(server.wsUrl, { host: 'attacker.example' })).toBe(403);
  });
});

describe('a gateway with an admin key', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ SWITCHBOARD_ADMIN_KEY: 'sb-admin-test-key' });
  });
  afterAll(async () => {
    await server.stop();
  });

  it('serves any host name: keys, not the address, decide who may call', async () => {
    const response = await rawRequest(`${server.url}/graphql`, {
      headers: { 'content-type': 'application/json', host: 'gateway.example.com', authorization: 'Bearer sb-admin-test-key' },
      chunks: [query],
    });
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ data: { __typename: 'Query' } });
  });
});

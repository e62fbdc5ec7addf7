import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/app.js';
import { subscribeWs, wsClient } from '../helpers/subscriptions.js';
import { aliasBomb, deepQuery, NORMAL_QUERY } from './queries.js';
import { rawRequest } from './raw.js';

interface Body {
  data?: Record<string, unknown> | null;
  errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
}

const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/graphql-response+json' };

describe('GraphQL document limits', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.stop();
  });

  const refusal = async (query: string): Promise<{ message: string; code: unknown }> => {
    const body = await server.graphql(query);
    expect(body.data ?? null).toBeNull();
    const error = body.errors?.[0];
    expect(error).toBeDefined();
    return { message: error?.message ?? '', code: error?.extensions?.['code'] };
  };

  it('refuses a query past the depth limit', async () => {
    const body = await server.graphql(deepQuery(13));
    expect(body.data ?? null).toBeNull();
    expect(body.errors?.map((error) => error.extensions?.['code'])).toEqual(expect.arrayContaining(['BAD_REQUEST']));
    expect(body.errors?.some((error) => /depth limit of 12 exceeded/i.test(error.message))).toBe(true);
  });

  it('refuses too many aliases, __typename included', async () => {
    expect((await server.graphql(aliasBomb(30))).errors).toBeUndefined();
    const error = await refusal(aliasBomb(31));
    expect(error).toMatchObject({ code: 'BAD_REQUEST' });
    expect(error.message).toMatch(/aliases limit of 30/i);
  });

  it('estimates the size of the answer from lists and page sizes, refusing nested lists that would explode', async () => {
    // Four fields deep, yet 50 providers x 50 endpoints x 50 endpoints could be 125,000 values.
    const error = await refusal('query Nested { providers { models { provider { models { providerModelId } } } } }');
    expect(error).toMatchObject({ code: 'BAD_REQUEST' });
    expect(error.message).toMatch(/cost limit of 50000/i);
    const bigPage = await refusal('query Pages { models(first: 1000000) { edges { node { id name } } } }');
    expect(bigPage.message).toMatch(/cost limit/i);
    // A catalog page with each model's endpoints is what clients really ask for, and passes.
    const catalog = await server.graphql('query Catalog { models(first: 100) { edges { node { id endpoints { providerModelId provider { id } } } } } }');
    expect(catalog.errors).toBeUndefined();
  });

  it('refuses too many directives and too many tokens', async () => {
    const directives = await refusal(`query Directives { __typename ${'@include(if: true) '.repeat(51)} }`);
    expect(directives).toMatchObject({ code: 'BAD_REQUEST' });
    expect(directives.message).toMatch(/directives limit of 50/i);
    const tokens = await refusal(`query Tokens { ${'__typename '.repeat(5001)} }`);
    expect(tokens).toMatchObject({ code: 'BAD_REQUEST' });
    expect(tokens.message).toMatch(/token limit of 5000/i);
  });

  it('applies the same limits over graphql-ws, whose operations go through yoga.getEnveloped', async () => {
    const client = wsClient(server.wsUrl);
    try {
      const attempt = (query: string): Promise<unknown> => subscribeWs(client, query).then(() => [], (errors: unknown) => errors);
      const depth = (await attempt(deepQuery(13))) as Array<{ message: string; extensions?: Record<string, unknown> }>;
      expect(depth.some((error) => /depth limit of 12/i.test(error.message))).toBe(true);
      expect(depth[0]?.extensions?.['code']).toBe('BAD_REQUEST');
      const aliases = (await attempt(aliasBomb(31))) as Array<{ message: string; extensions?: Record<string, unknown> }>;
      expect(aliases[0]?.message).toMatch(/aliases limit/i);
      const tokens = (await attempt(`query Tokens { ${'__typename '.repeat(5001)} }`)) as Array<{ message: string; extensions?: Record<string, unknown> }>;
      expect(tokens[0]?.message).toMatch(/token limit/i);
      expect(tokens[0]?.extensions?.['code']).toBe('BAD_REQUEST');
      const normal = await subscribeWs(client, NORMAL_QUERY);
      expect(normal[0]?.data).toEqual({ model: { id: 'local/echo', name: expect.any(String) } });
    } finally {
      await client.dispose();
    }
  });

  it('runs one operation per request: a batch is refused', async () => {
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: JSON_HEADERS,
      body: JSON.stringify([{ query: '{ __typename }' }, { query: '{ __typename }' }]),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as Body;
    expect(body.errors?.[0]?.extensions?.['code']).toBe('BAD_REQUEST');
  });

  describe('request body size', () => {
    it('refuses a declared content-length over the limit before reading it', async () => {
      const response = await rawRequest(`${server.url}/graphql`, { headers: { ...JSON_HEADERS, 'content-length': 10 * 1024 * 1024 + 1 }, chunks: ['{"query":'] });
      expect(response.status).toBe(413);
      const body = JSON.parse(response.body) as Body;
      expect(body.errors?.[0]).toMatchObject({ message: expect.stringMatching(/larger than the limit of 10485760 bytes/), extensions: { code: 'BAD_REQUEST' } });
    });

    it('counts a chunked body and refuses it once it passes the limit', async () => {
      const megabyte = Buffer.alloc(1024 * 1024, 0x20);
      const response = await rawRequest(`${server.url}/graphql`, { headers: JSON_HEADERS, chunks: ['{"query":"{ __typename }"', ...Array.from({ length: 11 }, () => megabyte), '}'] });
      expect(response.status).toBe(413);
    });

    it('hands a chunked body within the limit on to Yoga unchanged', async () => {
      const response = await rawRequest(`${server.url}/graphql`, { headers: JSON_HEADERS, chunks: ['{"query":', '"query Chunked { model(id: \\"local/echo\\") { id } }"', '}'] });
      expect(response.headers['transfer-encoding']).toBeUndefined();
      expect(response.status).toBe(200);
      expect(JSON.parse(response.body)).toEqual({ data: { model: { id: 'local/echo' } } });
    });

    it('caps WebSocket messages at the same size, closing with 1009 and logging no internal error', async () => {
      const consoleError = vi.spyOn(console, 'error');
      const socket = new WebSocket(server.wsUrl, 'graphql-transport-ws');
      await new Promise((resolve, reject) => {
        socket.once('open', resolve);
        socket.once('error', reject);
      });
      const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
      socket.send(Buffer.alloc(10 * 1024 * 1024 + 1, 0x20));
      expect(await closed).toBe(1009);
      await server.graphql('{ __typename }');
      expect(consoleError.mock.calls.map((call) => String(call[0]))).toEqual([]);
      consoleError.mockRestore();
    });
  });

  describe('CSRF prevention', () => {
    it('refuses a form-like POST and a header-less GET, which a browser sends cross-site without a preflight', async () => {
      const form = await fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ query: '{ __typename }' }) });
      expect(form.status).toBe(403);
      const body = (await form.json()) as Body;
      expect(body.errors?.[0]?.extensions?.['code']).toBe('BAD_REQUEST');
      expect(body.errors?.[0]?.message).toMatch(/cross-site request forgery/);
      const get = await fetch(`${server.url}/graphql?query=${encodeURIComponent('{ __typename }')}`, { headers: { accept: 'application/json' } });
      expect(get.status).toBe(403);
    });

    it('runs a GET that carries the CSRF header, and a JSON POST', async () => {
      const get = await fetch(`${server.url}/graphql?query=${encodeURIComponent('{ __typename }')}`, { headers: { accept: 'application/json', 'x-graphql-yoga-csrf': '1' } });
      expect(get.status).toBe(200);
      expect(await get.json()).toEqual({ data: { __typename: 'Query' } });
      expect((await server.graphql('{ __typename }')).data).toEqual({ __typename: 'Query' });
    });

    it('still serves GraphiQL to a plain browser GET', async () => {
      const page = await fetch(`${server.url}/graphql`, { headers: { accept: 'text/html' } });
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('renderYogaGraphiQL');
    });
  });

  it('sends no CORS headers by default, so browsers on other origins cannot read answers', async () => {
    const preflight = await fetch(`${server.url}/graphql`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    const post = await fetch(`${server.url}/graphql`, { method: 'POST', headers: { ...JSON_HEADERS, origin: 'https://evil.example' }, body: JSON.stringify({ query: '{ __typename }' }) });
    expect(post.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('keeps introspection on by default (GraphiQL needs it)', async () => {
    const body = await server.graphql<{ __schema: { queryType: { name: string } } }>('{ __schema { queryType { name } } }');
    expect(body.data?.__schema.queryType.name).toBe('Query');
  });
});

describe('production switches: introspection off, CORS for listed origins', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ SWITCHBOARD_INTROSPECTION: 'false', SWITCHBOARD_CORS_ORIGINS: 'https://app.example.com' });
  });
  afterAll(async () => {
    await server.stop();
  });

  it('refuses introspection with BAD_REQUEST, over HTTP and WebSocket, and still answers __typename', async () => {
    const body = await server.graphql('{ __schema { types { name } } }');
    expect(body.errors?.[0]).toMatchObject({ message: expect.stringMatching(/introspection has been disabled/), extensions: { code: 'BAD_REQUEST' } });
    const type = await server.graphql('{ __type(name: "Model") { name } }');
    expect(type.errors?.[0]?.extensions?.['code']).toBe('BAD_REQUEST');
    expect((await server.graphql('{ __typename }')).data).toEqual({ __typename: 'Query' });
    const client = wsClient(server.wsUrl);
    try {
      const errors = (await subscribeWs(client, '{ __schema { types { name } } }').then(
        () => [],
        (error: unknown) => error,
      )) as Array<{ message: string }>;
      expect(errors[0]?.message).toMatch(/introspection has been disabled/);
    } finally {
      await client.dispose();
    }
  });

  it('does not suggest field names, which would map the schema piece by piece', async () => {
    const body = await server.graphql('{ modls { id } }');
    expect(body.errors?.[0]?.message).toMatch(/Cannot query field "modls"/);
    expect(body.errors?.[0]?.message).not.toMatch(/Did you mean/);
  });

  it('answers a listed origin with CORS headers and an unlisted one without', async () => {
    const preflight = (origin: string): Promise<Response> =>
      fetch(`${server.url}/graphql`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' },
      });
    const listed = await preflight('https://app.example.com');
    expect(listed.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(listed.headers.get('access-control-allow-credentials')).toBeNull();
    expect(listed.headers.get('access-control-allow-headers')).toMatch(/authorization/);
    const unlisted = await preflight('https://evil.example');
    expect(unlisted.headers.get('access-control-allow-origin')).not.toBe('https://evil.example');
  });
});

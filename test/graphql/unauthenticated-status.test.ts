import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/app.js';

const ADMIN_KEY = 'sb-admin-status-test-0123456789';

/**
 * GraphQL over HTTP: a request refused before execution (no key, a wrong key) is a 401 for clients that accept
 * application/graphql-response+json, as the GraphQL-over-HTTP spec asks; legacy application/json clients keep 200
 * and read the error from the body.
 */
describe('the HTTP status of an unauthenticated GraphQL request', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ SWITCHBOARD_ADMIN_KEY: ADMIN_KEY });
  });
  afterAll(async () => {
    await server.stop();
  });

  const post = (accept: string, authorization?: string) =>
    fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept, ...(authorization ? { authorization } : {}) },
      body: JSON.stringify({ query: '{ models(first: 1) { totalCount } }' }),
    });

  it.each([
    ['no key', undefined],
    ['a wrong key', 'Bearer sb-wrong'],
  ])('answers %s with 401 to application/graphql-response+json', async (_name, authorization) => {
    const response = await post('application/graphql-response+json', authorization);
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toContain('application/graphql-response+json');
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
    const body = (await response.json()) as { data?: unknown; errors: Array<{ extensions: Record<string, unknown> }> };
    expect(body.data).toBeUndefined();
    // The status is transport detail: it is not in the error the client reads.
    expect(body.errors[0]?.extensions).toEqual({ code: 'UNAUTHENTICATED' });
  });

  it.each([
    ['no key', undefined],
    ['a wrong key', 'Bearer sb-wrong'],
  ])('keeps 200 for %s to legacy application/json clients', async (_name, authorization) => {
    const response = await post('application/json', authorization);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { errors: Array<{ extensions: Record<string, unknown> }> };
    expect(body.errors[0]?.extensions).toEqual({ code: 'UNAUTHENTICATED' });
  });

  it('answers a valid key with 200 on both', async () => {
    for (const accept of ['application/graphql-response+json', 'application/json']) {
      const response = await post(accept, `Bearer ${ADMIN_KEY}`);
      expect(response.status, accept).toBe(200);
      expect(((await response.json()) as { errors?: unknown }).errors, accept).toBeUndefined();
    }
  });
});

import { auditServer, type AuditResult } from 'graphql-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/app.js';

/** Each audit's requirement level is the first word of its name. */
function level(result: AuditResult): string {
  return result.name.split(' ')[0] ?? '';
}

function report(label: string, results: AuditResult[]): void {
  const summary = ['MUST', 'SHOULD', 'MAY'].map((requirement) => {
    const ofLevel = results.filter((result) => level(result) === requirement);
    return `${requirement} ${ofLevel.filter((result) => result.status === 'ok').length}/${ofLevel.length}`;
  });
  const failing = results.filter((result) => result.status !== 'ok').map((result) => `  ${result.status} ${result.name}: ${'reason' in result ? result.reason : ''}`);
  console.log([`graphql-http server audit (${label}): ${summary.join(', ')}`, ...failing].join('\n'));
}

describe('GraphQL over HTTP conformance (graphql-http server audit)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.stop();
  });

  it('passes every MUST and every SHOULD with a plain client', async () => {
    const results = await auditServer({ url: `${server.url}/graphql` });
    report('plain client', results);
    expect(results.length).toBeGreaterThan(50);
    expect(results.filter((result) => level(result) === 'MUST' && result.status !== 'ok').map((result) => result.name)).toEqual([]);
    expect(results.filter((result) => level(result) === 'SHOULD' && result.status !== 'ok').map((result) => result.name)).toEqual([]);
  });

  it('passes the MAY items about GET too once the client sends the CSRF header, which is all they lack', async () => {
    const withCsrfHeader: typeof fetch = (input, init) => {
      const headers = new Headers(init?.headers);
      headers.set('x-graphql-yoga-csrf', '1');
      return fetch(input, { ...init, headers });
    };
    const results = await auditServer({ url: `${server.url}/graphql`, fetchFn: withCsrfHeader });
    report('client sending x-graphql-yoga-csrf', results);
    expect(results.filter((result) => result.status !== 'ok').map((result) => result.name)).toEqual([]);
  });
});

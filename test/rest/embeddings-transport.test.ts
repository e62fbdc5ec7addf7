import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/app.js';

/** POST /v1/embeddings sits behind the same transport rules as every /v1 route: JSON only, known origins, a body limit. */
describe('POST /v1/embeddings at the transport', () => {
  let server: TestServer;
  let url: string;
  const body = (input: string) => JSON.stringify({ model: 'local/embed', input });
  const rows = async (): Promise<number> => (await server.graphql<{ generations: { totalCount: number } }>('{ generations { totalCount } }')).data!.generations.totalCount;

  beforeAll(async () => {
    server = await startTestServer({ SWITCHBOARD_CORS_ORIGINS: 'https://app.example.com', SWITCHBOARD_MAX_BODY_BYTES: '4096' });
    url = `${server.url}/v1/embeddings`;
  });
  afterAll(async () => {
    await server.stop();
  });

  it('embeds a JSON post from a listed origin and records it', async () => {
    const before = await rows();
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'https://app.example.com' }, body: body('fine') });
    expect(response.status).toBe(200);
    await expect.poll(rows).toBe(before + 1);
  });

  it('refuses a simple cross-site post, a foreign origin and a body over the limit, without a ledger row', async () => {
    const before = await rows();
    expect((await fetch(url, { method: 'POST', headers: { 'content-type': 'text/plain', origin: server.url }, body: body('forged') })).status).toBe(415);
    expect((await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'https://evil.example' }, body: body('forged') })).status).toBe(403);
    // Just under the limit is embedded; just over is refused before any of it is parsed.
    const under = 'x'.repeat(4096 - body('').length);
    expect((await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body(under) })).status).toBe(200);
    const over = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body(`${under}x`) });
    expect(over.status).toBe(413);
    expect(await rows()).toBe(before + 1);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/app.js';

const ALLOWED_ORIGIN = 'https://app.example.com';
const completionBody = (text: string) => JSON.stringify({ model: 'local/echo', messages: [{ role: 'user', content: text }] });

/**
 * In open local mode every caller is admin, so a page on any site the user visits could otherwise start completions
 * on the user's gateway with a "simple" cross-site POST (no CORS preflight). The REST facade applies the same CSRF
 * and origin rules as GraphQL: JSON bodies only, and browser origins only when they are the gateway's own or listed.
 */
describe('the REST facade refuses cross-site requests', () => {
  let server: TestServer;
  let chatUrl: string;

  beforeAll(async () => {
    server = await startTestServer({ SWITCHBOARD_CORS_ORIGINS: ALLOWED_ORIGIN });
    chatUrl = `${server.url}/v1/chat/completions`;
  });
  afterAll(async () => {
    await server.stop();
  });

  /** Generations in the ledger: a refused request must add none. */
  const rows = async (): Promise<number> => {
    const body = await server.graphql<{ generations: { totalCount: number } }>('{ generations { totalCount } }');
    return body.data!.generations.totalCount;
  };

  it('runs JSON posts with no Origin, the gateway’s own origin or a listed one', async () => {
    const before = await rows();
    for (const origin of [undefined, server.url, ALLOWED_ORIGIN]) {
      const response = await fetch(chatUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8', ...(origin ? { origin } : {}) },
        body: completionBody('allowed'),
      });
      expect(response.status, String(origin)).toBe(200);
      expect(((await response.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]?.message.content).toBe('allowed');
    }
    await expect.poll(rows).toBe(before + 3);
    const models = await fetch(`${server.url}/v1/models`, { headers: { origin: ALLOWED_ORIGIN } });
    expect(models.status).toBe(200);
  });

  it.each([
    ['text/plain', 'text/plain'],
    ['text/plain with a charset', 'text/plain;charset=UTF-8'],
    ['multipart/form-data', 'multipart/form-data; boundary=x'],
    ['a urlencoded form', 'application/x-www-form-urlencoded'],
    ['no content type', undefined],
  ])('refuses %s with 415, without running the completion', async (_name, contentType) => {
    const before = await rows();
    const response = await fetch(chatUrl, {
      method: 'POST',
      // fetch labels a string body text/plain unless told otherwise; a Blob without a type sends no content type.
      // The gateway's own origin: a same-origin page may not post a simple body either (the rule is the content type).
      headers: contentType ? { 'content-type': contentType, origin: server.url } : { origin: server.url },
      body: contentType ? completionBody('forged') : new Blob([completionBody('forged')]),
    });
    expect(response.status).toBe(415);
    expect(await response.json()).toEqual({ error: { message: expect.stringContaining('application/json'), type: 'invalid_request_error', code: 'unsupported_media_type', param: null } });
    // A client that sends no Origin at all is held to the same rule.
    const noOrigin = await fetch(chatUrl, { method: 'POST', headers: { 'content-type': contentType ?? 'text/plain' }, body: completionBody('forged') });
    expect(noOrigin.status).toBe(415);
    // A foreign page is refused whatever it sends.
    const foreign = await fetch(chatUrl, { method: 'POST', headers: { 'content-type': contentType ?? 'text/plain', origin: 'https://evil.example' }, body: completionBody('forged') });
    expect(foreign.status).toBe(403);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await rows()).toBe(before);
  });

  it('refuses a JSON post or a GET from another site’s page with 403, without running anything', async () => {
    const before = await rows();
    for (const origin of ['https://evil.example', 'null', `${server.url}.evil.example`, 'http://localhost:1']) {
      const response = await fetch(chatUrl, { method: 'POST', headers: { 'content-type': 'application/json', origin }, body: completionBody('forged') });
      expect(response.status, origin).toBe(403);
      expect(await response.json()).toEqual({ error: { message: expect.stringContaining('SWITCHBOARD_CORS_ORIGINS'), type: 'permission_error', code: 'forbidden', param: null } });
    }
    const models = await fetch(`${server.url}/v1/models`, { headers: { origin: 'https://evil.example' } });
    expect(models.status).toBe(403);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await rows()).toBe(before);
  });
});

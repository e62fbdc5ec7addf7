import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/app.js';

const SECRET = 'sb-cache-bootstrap-secret-from-the-environment-0123456789';

let directory: string;
let server: TestServer;
beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'switchboard-cache-config-'));
  const path = join(directory, 'switchboard.yaml');
  writeFileSync(path, ['keys:', '  - name: cached', '    secret: ${CACHE_KEY_SECRET}', '    scopes: [COMPLETIONS]', '    cacheTtlSeconds: 300', ''].join('\n'));
  server = await startTestServer({ SWITCHBOARD_ADMIN_KEY: 'sb-admin-cache-config-0123456789', SWITCHBOARD_CONFIG: path, CACHE_KEY_SECRET: SECRET });
});
afterAll(async () => {
  await server.stop();
  rmSync(directory, { recursive: true, force: true });
});

describe("a configuration file key's cache default", () => {
  it('opts the key’s requests in without a header', async () => {
    const send = async (): Promise<string | null> => {
      const response = await fetch(`${server.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${SECRET}` },
        body: JSON.stringify({ model: 'local/echo', messages: [{ role: 'user', content: 'from the config file' }] }),
      });
      expect(response.status).toBe(200);
      return response.headers.get('x-switchboard-cache');
    };
    expect([await send(), await send()]).toEqual(['MISS', 'HIT']);
  });
});

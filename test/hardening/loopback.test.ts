import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { startTestServer, type TestServer } from '../helpers/app.js';
import { rawRequest } from './raw.js';

/**
 * Open local mode trusts loopback: the bind address (HOST) and each request's Host header are checked by one
 * rule. Names that only look like loopback addresses are DNS names an attacker controls.
 */
const LOOPBACK_BIND = ['127.0.0.1', '127.255.255.254', '127.1.2.3', 'localhost', 'LOCALHOST', '::1', '[::1]', '0:0:0:0:0:0:0:1'];
const NOT_LOOPBACK_BIND = ['127.attacker.example', '127.0.0.1.nip.io', 'localhost.evil', '1127.0.0.1', '127.0.0.256', '127.0.0.01', '127.1', '0.0.0.0', '::', '::ffff:8.8.8.8', '10.0.0.5'];

describe('the loopback rule for the bind address', () => {
  it.each(LOOPBACK_BIND)('lets open local mode listen on %s', (host) => {
    expect(loadConfig({ HOST: host }).host).toBe(host);
  });

  it.each(NOT_LOOPBACK_BIND)('refuses open local mode on %s', (host) => {
    expect(() => loadConfig({ HOST: host })).toThrow(ConfigError);
    // With an admin key any address is fine: auth no longer leans on loopback.
    expect(loadConfig({ HOST: host, SWITCHBOARD_ADMIN_KEY: 'sb-admin-loopback-test' }).host).toBe(host);
  });
});

describe('the loopback rule for Host headers in open local mode', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.stop();
  });

  const statusFor = async (host: string): Promise<number> =>
    (await rawRequest(`${server.url}/graphql`, { headers: { host, 'content-type': 'application/json' }, chunks: [JSON.stringify({ query: '{ __typename }' })] })).status;

  it.each(['127.0.0.1', '127.255.255.254', '127.0.0.1:4000', 'localhost:4000', 'LocalHost', '[::1]', '[::1]:4000'])('answers Host: %s', async (host) => {
    expect(await statusFor(host)).toBe(200);
  });

  it.each(['127.attacker.example', '127.attacker.example:4000', '127.0.0.1.nip.io', 'localhost.evil', '1127.0.0.1', '127.999.0.1', '::1', '[::1]x', '127.0.0.1:port', 'localhost:4000:1'])(
    'refuses Host: %s',
    async (host) => {
      expect(await statusFor(host)).toBe(403);
    },
  );
});

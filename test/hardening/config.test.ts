import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('limit settings', () => {
  it('has safe defaults: no CORS, introspection on, 10 MB bodies', () => {
    const { limits } = loadConfig({});
    expect(limits).toMatchObject({ maxBodyBytes: 10 * 1024 * 1024, corsOrigins: [], introspection: true });
    expect(limits.http.headersTimeoutMs).toBeLessThanOrEqual(limits.http.requestTimeoutMs);
  });

  it('reads origins, switches and numbers from the environment', () => {
    const { limits } = loadConfig({
      SWITCHBOARD_CORS_ORIGINS: 'https://app.example.com/, http://localhost:5173',
      SWITCHBOARD_INTROSPECTION: 'false',
      SWITCHBOARD_MAX_BODY_BYTES: '2048',
      SWITCHBOARD_HEADERS_TIMEOUT_MS: '90000',
      SWITCHBOARD_REQUEST_TIMEOUT_MS: '30000',
    });
    expect(limits.corsOrigins).toEqual(['https://app.example.com', 'http://localhost:5173']);
    expect(limits.introspection).toBe(false);
    expect(limits.maxBodyBytes).toBe(2048);
    // Node refuses a headers timeout longer than the request timeout, so it is held to it.
    expect(limits.http.headersTimeoutMs).toBe(30_000);
  });

  it('refuses what is not an origin, and a non-positive size, naming the variable', () => {
    expect(() => loadConfig({ SWITCHBOARD_CORS_ORIGINS: 'app.example.com' })).toThrow(ConfigError);
    expect(() => loadConfig({ SWITCHBOARD_CORS_ORIGINS: 'https://app.example.com/path' })).toThrow(/SWITCHBOARD_CORS_ORIGINS/);
    expect(() => loadConfig({ SWITCHBOARD_MAX_BODY_BYTES: '0' })).toThrow(/SWITCHBOARD_MAX_BODY_BYTES/);
    expect(() => loadConfig({ SWITCHBOARD_INTROSPECTION: 'maybe' })).toThrow(/SWITCHBOARD_INTROSPECTION/);
  });
});

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

describe('monitoring settings', () => {
  // They used to be read from process.env when the app was built; now loadConfig validates them with the rest.
  it('reads the retention period and the stored-content switch from the environment it is given', () => {
    expect(loadConfig({})).toMatchObject({ retentionDays: null, storeContent: false });
    expect(loadConfig({ SWITCHBOARD_RETENTION_DAYS: '30', SWITCHBOARD_STORE_CONTENT: 'true' })).toMatchObject({ retentionDays: 30, storeContent: true });
    expect(() => loadConfig({ SWITCHBOARD_STORE_CONTENT: 'yes' })).toThrow(/SWITCHBOARD_STORE_CONTENT/);
  });

  it('refuses a retention period that is not a whole number of days, naming the variable', () => {
    for (const value of ['0', '-3', '1.5', 'week']) {
      expect(() => loadConfig({ SWITCHBOARD_RETENTION_DAYS: value })).toThrow(ConfigError);
      expect(() => loadConfig({ SWITCHBOARD_RETENTION_DAYS: value })).toThrow(/SWITCHBOARD_RETENTION_DAYS/);
    }
  });
});

describe('provider settings', () => {
  it('enables a preset by its key (Ollama by its base URL) and trims trailing slashes', () => {
    const { providers } = loadConfig({ OPENAI_API_KEY: 'sk-test', OLLAMA_BASE_URL: 'http://127.0.0.1:11434///', ANTHROPIC_BASE_URL: 'https://example.test' });
    expect(providers.map((provider) => [provider.id, provider.baseUrl])).toEqual([
      ['openai', 'https://api.openai.com/v1'],
      ['ollama', 'http://127.0.0.1:11434'],
    ]);
  });

  it('refuses a declared provider that takes the local provider’s id', () => {
    expect(() => loadConfig({ SWITCHBOARD_PROVIDERS: JSON.stringify([{ id: 'local', baseUrl: 'http://127.0.0.1:8000/v1' }]) })).toThrow(/already taken/);
  });
});

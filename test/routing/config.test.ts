import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('routing configuration from the environment', () => {
  it('defaults to ordered routing, no hedging, 60 s per attempt, 300 s per request and 2 retries', () => {
    const { routing } = loadConfig({});
    expect(routing).toMatchObject({ strategy: 'ordered', hedgeDelayMs: null, attemptTimeoutMs: 60_000, requestDeadlineMs: 300_000, streamIdleTimeoutMs: 60_000, maxRetries: 2, models: {} });
  });

  it('reads every routing variable, per-model settings included', () => {
    const { routing } = loadConfig({
      SWITCHBOARD_ROUTING_STRATEGY: 'latency',
      SWITCHBOARD_HEDGE_DELAY_MS: 'p95',
      SWITCHBOARD_ATTEMPT_TIMEOUT_MS: '5000',
      SWITCHBOARD_REQUEST_DEADLINE_MS: '20000',
      SWITCHBOARD_STREAM_IDLE_TIMEOUT_MS: '7000',
      SWITCHBOARD_MAX_RETRIES: '0',
      SWITCHBOARD_BREAKER_FAILURES: '3',
      SWITCHBOARD_BREAKER_MIN_FAILING_REQUESTS: '4',
      SWITCHBOARD_BREAKER_COOLDOWN_MS: '1000',
      SWITCHBOARD_ROUTING_MODELS: JSON.stringify({ 'openai/gpt-4o': { strategy: 'price', hedgeDelayMs: 250 } }),
    });
    expect(routing).toMatchObject({ strategy: 'latency', hedgeDelayMs: 'p95', attemptTimeoutMs: 5000, requestDeadlineMs: 20_000, streamIdleTimeoutMs: 7000, maxRetries: 0 });
    expect(routing.breaker).toMatchObject({ failureThreshold: 3, minimumFailingRequests: 4, cooldownMs: 1000 });
    expect(loadConfig({}).routing.breaker.minimumFailingRequests).toBe(3);
    expect(routing.models).toEqual({ 'openai/gpt-4o': { strategy: 'price', hedgeDelayMs: 250 } });
    expect(loadConfig({ SWITCHBOARD_HEDGE_DELAY_MS: '' }).routing.hedgeDelayMs).toBeNull();
  });

  it('refuses values it cannot use, naming the variable', () => {
    expect(() => loadConfig({ SWITCHBOARD_ROUTING_STRATEGY: 'fastest' })).toThrow(ConfigError);
    expect(() => loadConfig({ SWITCHBOARD_ROUTING_STRATEGY: 'fastest' })).toThrow(/SWITCHBOARD_ROUTING_STRATEGY/);
    expect(() => loadConfig({ SWITCHBOARD_ROUTING_MODELS: '{not json' })).toThrow(/SWITCHBOARD_ROUTING_MODELS/);
    expect(() => loadConfig({ SWITCHBOARD_ROUTING_MODELS: JSON.stringify({ 'a/b': { strategy: 'random' } }) })).toThrow(/SWITCHBOARD_ROUTING_MODELS/);
    expect(() => loadConfig({ SWITCHBOARD_MAX_RETRIES: '-1' })).toThrow(/SWITCHBOARD_MAX_RETRIES/);
  });
});

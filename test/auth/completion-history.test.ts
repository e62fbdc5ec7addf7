import { describe, expect, it } from 'vitest';
import { CompletionHistory, HISTORY_SIZE } from '../../src/auth/completion-history.js';

describe('CompletionHistory', () => {
  it('plans for the output limit until an endpoint has history, then for the most a recent answer used', () => {
    const history = new CompletionHistory();
    expect(history.expectedCompletionTokens('openai:gpt-4o-mini', 16_384)).toBe(16_384);
    history.record('openai:gpt-4o-mini', 120, 400);
    history.record('openai:gpt-4o-mini', 300, 600);
    history.record('openai:gpt-4o-mini', 80, 500);
    expect(history.expectedCompletionTokens('openai:gpt-4o-mini', 16_384)).toBe(300);
    // Never more than the request's own limit, and other endpoints are not affected.
    expect(history.expectedCompletionTokens('openai:gpt-4o-mini', 200)).toBe(200);
    expect(history.expectedCompletionTokens('openai:gpt-4o', 4096)).toBe(4096);
  });

  it('forgets answers older than the last HISTORY_SIZE', () => {
    const history = new CompletionHistory();
    history.record('e', 5000, null);
    for (let index = 0; index < HISTORY_SIZE; index++) history.record('e', 100, null);
    expect(history.expectedCompletionTokens('e', 16_384)).toBe(100);
  });

  it('tells a refused caller to retry after the median latency, never sooner than a second', () => {
    const history = new CompletionHistory();
    expect(history.retryAfterMs('e')).toBe(1000);
    for (const latency of [200, 300, 400]) history.record('e', 10, latency);
    expect(history.retryAfterMs('e')).toBe(1000);
    for (const latency of [4000, 5000, 6000, 7000]) history.record('e', 10, latency);
    expect(history.retryAfterMs('e')).toBe(4000);
  });
});

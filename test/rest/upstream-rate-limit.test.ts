import { APIError, RateLimitError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subscribeWs, wsClient } from '../helpers/subscriptions.js';
import { startRestFixture, type RestFixture } from './setup.js';
import { rejection } from '../helpers/errors.js';

const hello = [{ role: 'user' as const, content: 'Hello' }];
const COMPLETE = 'mutation ($input: CompletionInput!) { createCompletion(input: $input) { id } }';


/**
 * An upstream 429 on every attempt is a rate limit to the caller too: REST 429 with the provider's Retry-After,
 * GraphQL RATE_LIMITED naming the provider and the wait, instead of a 502 that SDKs retry at once.
 */
describe('an upstream rate limit reaches the caller as a rate limit', () => {
  let fixture: RestFixture;

  beforeAll(async () => {
    // One retry on the same endpoint, so a request can be made of two attempts that fail differently; a breaker
    // that never opens, so the failures of one test cannot shut the endpoint for the next.
    fixture = await startRestFixture({ SWITCHBOARD_MAX_RETRIES: '1', SWITCHBOARD_BREAKER_FAILURES: '1000' });
  });
  afterAll(async () => {
    await fixture.stop();
  });

  it('answers REST with 429 RateLimitError and the provider’s Retry-After, streamed or not', async () => {
    // 7 s is longer than the gateway waits itself (2 s), so the wait is handed to the caller after one attempt.
    fixture.fake.enqueue({ kind: 'error', error: 'rate_limited', retryAfterSeconds: 7 });
    const error = await rejection(fixture.client().chat.completions.create({ model: 'openai/gpt-4o-mini', messages: hello }));
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error).toMatchObject({ status: 429, type: 'rate_limit_error', code: 'rate_limited', message: expect.stringContaining('openai') });
    const headers = (error as RateLimitError).headers;
    expect(headers.get('retry-after')).toBe('7');
    expect(headers.get('retry-after-ms')).toBe('7000');
    expect(headers.get('x-should-retry')).toBe('true');

    fixture.fake.enqueue({ kind: 'error', error: 'rate_limited', retryAfterSeconds: 5 });
    const streamed = await rejection(fixture.client().chat.completions.create({ model: 'openai/gpt-4o-mini', messages: hello, stream: true }));
    expect(streamed).toBeInstanceOf(RateLimitError);
    expect((streamed as RateLimitError).headers.get('retry-after')).toBe('5');
  });

  it('answers GraphQL with RATE_LIMITED, the provider and retryAfterMs', async () => {
    fixture.fake.enqueue({ kind: 'error', error: 'rate_limited', retryAfterSeconds: 7 });
    const body = await fixture.server.graphql(COMPLETE, { input: { model: 'openai/gpt-4o-mini', messages: [{ role: 'USER', content: 'hi' }] } });
    expect(body.errors?.[0]?.extensions).toEqual({ code: 'RATE_LIMITED', provider: 'openai', retryAfterMs: 7000 });
  });

  it('ends a GraphQL stream with CompletionError RATE_LIMITED and the wait', async () => {
    fixture.fake.enqueue({ kind: 'error', error: 'rate_limited', retryAfterSeconds: 7 });
    const client = wsClient(fixture.server.wsUrl);
    const results = await subscribeWs(
      client,
      'subscription ($input: CompletionInput!) { completionStream(input: $input) { __typename ... on CompletionError { code retryAfterMs } } }',
      { input: { model: 'openai/gpt-4o-mini', messages: [{ role: 'USER', content: 'hi' }] } },
    );
    await client.dispose();
    expect(results.at(-1)?.data).toEqual({ completionStream: { __typename: 'CompletionError', code: 'RATE_LIMITED', retryAfterMs: 7000 } });
  });

  it('answers 429 when every attempt, retries included, was rate limited: the last wait counts', async () => {
    fixture.fake.enqueue({ kind: 'error', error: 'rate_limited', retryAfterSeconds: 0.1 });
    fixture.fake.enqueue({ kind: 'error', error: 'rate_limited', retryAfterSeconds: 3 });
    const error = await rejection(fixture.client().chat.completions.create({ model: 'openai/gpt-4o-mini', messages: hello }));
    expect(error).toBeInstanceOf(RateLimitError);
    expect((error as RateLimitError).headers.get('retry-after')).toBe('3');
  });

  it('keeps 502 when an attempt failed for another reason, whichever failed last', async () => {
    fixture.fake.enqueue({ kind: 'error', error: 'server_error' });
    fixture.fake.enqueue({ kind: 'error', error: 'rate_limited', retryAfterSeconds: 3 });
    const error = await rejection(fixture.client().chat.completions.create({ model: 'openai/gpt-4o-mini', messages: hello }));
    expect(error).toBeInstanceOf(APIError);
    expect(error).toMatchObject({ status: 502, code: 'provider_error' });
  });
});

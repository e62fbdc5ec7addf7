import OpenAI, {
  APIError,
  AuthenticationError,
  BadRequestError,
  InternalServerError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
} from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { BudgetExceededError, ForbiddenError, RateLimitedError } from '../../src/errors.js';
import { ProviderError } from '../../src/providers/errors.js';
import { FAKE_OPENAI_KEY } from '../fakes/openai.js';
import { startRestFixture, type RestFixture } from './setup.js';
import { rejection } from '../helpers/errors.js';

const ADMIN_KEY = 'sb-admin-test-key-0123456789';
const hello = [{ role: 'user' as const, content: 'Hello' }];


/** Every error body is OpenAI's, and none reveals a stack trace or the upstream credential. */
function expectSafe(error: unknown): void {
  expect(error).toBeInstanceOf(APIError);
  const text = JSON.stringify((error as APIError).error);
  expect(text).not.toContain(FAKE_OPENAI_KEY);
  expect(text).not.toMatch(/\bat .+\.(ts|js):\d+/);
}

describe('errors through the official openai SDK, as its typed error classes', () => {
  let fixture: RestFixture;
  let client: OpenAI;

  beforeAll(async () => {
    // No retries: each scripted upstream failure must reach the client as it is.
    fixture = await startRestFixture({ SWITCHBOARD_ADMIN_KEY: ADMIN_KEY, SWITCHBOARD_MAX_RETRIES: '0' });
    client = fixture.client();
  });
  afterAll(async () => {
    await fixture.stop();
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('answers a wrong key with 401 AuthenticationError and a right one with 200', async () => {
    const error = await rejection(fixture.client('sb-wrong').chat.completions.create({ model: 'local/echo', messages: hello }));
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error).toMatchObject({ status: 401, type: 'authentication_error', code: 'unauthenticated' });
    expect(await rejection(fixture.client('sb-wrong').models.list())).toBeInstanceOf(AuthenticationError);
    const ok = await client.chat.completions.create({ model: 'local/echo', messages: hello });
    expect(ok.choices[0]?.message.content).toBe('Hello');
  });

  it('answers an unknown model with 404 NotFoundError, code model_not_found, for streams too', async () => {
    const error = await rejection(client.chat.completions.create({ model: 'nowhere/nothing', messages: hello }));
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toMatchObject({ status: 404, code: 'model_not_found', type: 'invalid_request_error' });
    expect(await rejection(client.chat.completions.create({ model: 'nowhere/nothing', messages: hello, stream: true }))).toBeInstanceOf(NotFoundError);
    expectSafe(error);
  });

  it('answers an invalid request with 400 BadRequestError naming the param', async () => {
    const unsupported = await rejection(client.chat.completions.create({ model: 'local/echo', messages: hello, audio: { voice: 'alloy', format: 'mp3' } }));
    expect(unsupported).toBeInstanceOf(BadRequestError);
    expect(unsupported).toMatchObject({ status: 400, param: 'audio', type: 'invalid_request_error' });
    const streamedChoices = await rejection(client.chat.completions.create({ model: 'local/echo', messages: hello, n: 2, stream: true }));
    expect(streamedChoices).toMatchObject({ status: 400, param: 'n', type: 'invalid_request_error' });
    const outOfRange = await rejection(client.chat.completions.create({ model: 'local/echo', messages: hello, temperature: 7 }));
    expect(outOfRange).toMatchObject({ status: 400, param: 'temperature' });
    // A check the service makes, reported in the OpenAI names the caller used.
    const noTools = await rejection(client.chat.completions.create({ model: 'local/echo', messages: hello, tool_choice: 'required' }));
    expect(noTools).toBeInstanceOf(BadRequestError);
    expect(noTools).toMatchObject({ param: 'tool_choice', message: expect.stringContaining('tool_choice') });
  });

  it('answers the gateway’s own rate limit with 429 RateLimitError and Retry-After in whole seconds', async () => {
    vi.spyOn(fixture.server.app.services.completions, 'complete').mockRejectedValueOnce(new RateLimitedError('Too many requests for this key', 1500));
    const error = await rejection(client.chat.completions.create({ model: 'local/echo', messages: hello }));
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error).toMatchObject({ status: 429, type: 'rate_limit_error', code: 'rate_limited', message: expect.stringContaining('Too many requests for this key') });
    const headers = (error as RateLimitError).headers;
    expect(headers.get('retry-after')).toBe('2');
    expect(headers.get('retry-after-ms')).toBe('1500');

    vi.spyOn(fixture.server.app.services.completions, 'openStream').mockRejectedValueOnce(new RateLimitedError('Too many streams', 200));
    const streamed = await rejection(client.chat.completions.create({ model: 'local/echo', messages: hello, stream: true }));
    expect(streamed).toBeInstanceOf(RateLimitError);
    expect((streamed as RateLimitError).headers.get('retry-after')).toBe('1');
  });

  it('answers an exhausted budget with 429 insufficient_quota that SDKs are told not to retry', async () => {
    vi.spyOn(fixture.server.app.services.completions, 'complete').mockRejectedValueOnce(new BudgetExceededError());
    const error = await rejection(client.chat.completions.create({ model: 'local/echo', messages: hello }));
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error).toMatchObject({ status: 429, type: 'insufficient_quota', code: 'budget_exceeded' });
    expect((error as RateLimitError).headers.get('x-should-retry')).toBe('false');
  });

  it('answers a forbidden request with 403 PermissionDeniedError', async () => {
    vi.spyOn(fixture.server.app.services.completions, 'complete').mockRejectedValueOnce(new ForbiddenError('This key may not use openai/gpt-4o'));
    const error = await rejection(client.chat.completions.create({ model: 'local/echo', messages: hello }));
    expect(error).toBeInstanceOf(PermissionDeniedError);
    expect(error).toMatchObject({ status: 403, type: 'permission_error', code: 'forbidden' });
  });

  it('answers an upstream failure with 502, before the stream starts too, and records it FAILED', async () => {
    fixture.fake.enqueue({ kind: 'error', error: 'server_error' });
    const error = await rejection(client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: hello }));
    expect(error).toBeInstanceOf(InternalServerError);
    expect(error).toMatchObject({ status: 502, type: 'api_error', code: 'provider_error' });
    expectSafe(error);

    // Nothing reached the client yet, so a failing stream still gets a real HTTP status, not an in-band error.
    fixture.fake.enqueue({ kind: 'error', error: 'overloaded' });
    const streamed = await rejection(client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: hello, stream: true }));
    expect(streamed).toBeInstanceOf(InternalServerError);
    expect(streamed).toMatchObject({ status: 502 });
    const generationId = (streamed as InternalServerError).headers.get('x-switchboard-generation-id');
    expect(generationId).toMatch(/^gen_/);
    expect(await fixture.generation(generationId ?? '')).toMatchObject({ status: 'FAILED', streamed: true });
  });

  it('passes an upstream rate limit’s Retry-After on, and never the upstream key', async () => {
    fixture.fake.enqueue({ kind: 'error', error: 'rate_limited', retryAfterSeconds: 3 });
    const limited = await rejection(client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: hello }));
    expect(limited).toBeInstanceOf(APIError);
    expect((limited as APIError).headers?.get('retry-after')).toBe('3');
    expect((limited as APIError).headers?.get('x-should-retry')).toBe('true');

    fixture.fake.enqueue({ kind: 'error', error: 'authentication' });
    const refused = await rejection(client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: hello }));
    expectSafe(refused);
    // An upstream refusal no retry will change.
    expect((refused as APIError).headers?.get('x-should-retry')).toBe('false');
  });

  it('answers an upstream timeout with 504', async () => {
    vi.spyOn(fixture.server.app.services.completions, 'complete').mockRejectedValueOnce(new ProviderError('openai did not answer in time', { provider: 'openai', kind: 'timeout' }));
    const error = await rejection(client.chat.completions.create({ model: 'openai/gpt-4o-mini', messages: hello }));
    expect(error).toBeInstanceOf(InternalServerError);
    expect(error).toMatchObject({ status: 504, type: 'timeout_error', code: 'timeout' });
  });

  it('answers an unexpected failure with 500 and a message that reveals nothing', async () => {
    vi.spyOn(fixture.server.app.services.completions, 'complete').mockRejectedValueOnce(new Error(`database exploded; key=${FAKE_OPENAI_KEY}`));
    const error = await rejection(client.chat.completions.create({ model: 'local/echo', messages: hello }));
    expect(error).toBeInstanceOf(InternalServerError);
    expect(error).toMatchObject({ status: 500, code: 'internal' });
    expect((error as APIError).message).not.toContain('exploded');
    expectSafe(error);
  });

  it('ends a stream that fails midway with an error event the SDK raises as APIError', async () => {
    fixture.fake.enqueue({ kind: 'mid-stream-error', textBefore: 'Half an answer' });
    const { data: stream, response } = await client.chat.completions
      .create({ model: 'openai/gpt-4o-mini', messages: hello, stream: true, stream_options: { include_usage: true } })
      .withResponse();
    let text = '';
    const error = await rejection(
      (async () => {
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      })(),
    );
    expect(text).toBe('Half an answer');
    expect(error).toBeInstanceOf(APIError);
    expect(error).toMatchObject({ type: 'api_error', code: 'provider_error' });
    expectSafe(error);
    const generationId = response.headers.get('x-switchboard-generation-id') ?? '';
    expect(await fixture.generation(generationId)).toMatchObject({ status: 'FAILED', streamed: true });
  });
});

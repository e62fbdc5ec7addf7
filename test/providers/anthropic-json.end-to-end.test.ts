import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeUpstream } from '../conformance/harness.js';
import { FAKE_ANTHROPIC_KEY, startFakeAnthropic } from '../fakes/anthropic.js';
import { startTestServer, type TestServer } from '../helpers/app.js';
import { subscribeSse } from '../helpers/subscriptions.js';

/**
 * Anthropic carries a json_schema as a forced tool call; a model that writes "Checking." before that call must
 * still give the caller content that parses as JSON, on every path out of the gateway.
 */
describe('a json_schema answer from Anthropic with text before the forced tool call, end to end', () => {
  let fake: FakeUpstream;
  let server: TestServer;
  const schema = { type: 'object', properties: { city: { type: 'string' }, ok: { type: 'boolean' } }, required: ['city', 'ok'] };
  const toolInput = { city: 'Paris', ok: true };
  const input = {
    input: {
      model: 'anthropic/claude-sonnet-4-6',
      maxTokens: 100,
      messages: [{ role: 'USER', content: 'Where is the Louvre?' }],
      responseFormat: { type: 'JSON_SCHEMA', name: 'result', schema },
    },
  };

  beforeAll(async () => {
    fake = await startFakeAnthropic({ textBeforeForcedTool: 'Checking.' });
    server = await startTestServer({ ANTHROPIC_API_KEY: FAKE_ANTHROPIC_KEY, ANTHROPIC_BASE_URL: fake.url });
  });
  afterAll(async () => {
    await server.stop();
    await fake.close();
  });

  it('createCompletion returns the tool input alone as content, and the dropped text as a warning', async () => {
    fake.enqueue({ kind: 'text', text: JSON.stringify(toolInput), promptTokens: 12, completionTokens: 9 });
    const body = await server.graphql<{ createCompletion: { message: { content: string }; warnings: string[] } }>(
      `mutation($input: CompletionInput!) { createCompletion(input: $input) { message { content } warnings } }`,
      input,
    );
    expect(body.errors).toBeUndefined();
    const completion = body.data!.createCompletion;
    expect(JSON.parse(completion.message.content)).toEqual(toolInput);
    expect(completion.warnings).toEqual([expect.stringContaining('"Checking."')]);
    expect(fake.received.at(-1)?.body).toMatchObject({ tool_choice: { type: 'tool', name: 'result' } });
  });

  it('completionStream streams the tool input alone, the dropped text as a warning on its start', async () => {
    fake.enqueue({ kind: 'text', text: JSON.stringify(toolInput), promptTokens: 12, completionTokens: 9 });
    type Event = { __typename: string; text?: string; warnings?: string[] };
    const results = await subscribeSse(
      server.url,
      `subscription($input: CompletionInput!) { completionStream(input: $input) { __typename ... on CompletionStarted { warnings } ... on CompletionDelta { text } } }`,
      input,
    );
    const events = results.map((result) => (result.data as { completionStream: Event }).completionStream);
    expect(events[0]).toEqual({ __typename: 'CompletionStarted', warnings: [expect.stringContaining('"Checking."')] });
    const content = events.filter((event) => event.__typename === 'CompletionDelta').map((event) => event.text).join('');
    expect(JSON.parse(content)).toEqual(toolInput);
    expect(events.at(-1)?.__typename).toBe('CompletionDone');
  });

  it('the REST facade answers with content that parses as the tool input', async () => {
    fake.enqueue({ kind: 'text', text: JSON.stringify(toolInput), promptTokens: 12, completionTokens: 9 });
    const response = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'anthropic/claude-sonnet-4-6',
        max_tokens: 100,
        messages: [{ role: 'user', content: 'Where is the Louvre?' }],
        response_format: { type: 'json_schema', json_schema: { name: 'result', schema } },
      }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { choices: Array<{ message: { content: string } }> };
    expect(JSON.parse(body.choices[0]?.message.content ?? '')).toEqual(toolInput);
  });
});

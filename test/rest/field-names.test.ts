import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BadRequestError, graphqlArgumentPath, parseFieldPath, toOpenAIErrorBody } from '../../src/errors.js';
import { openAIParamName } from '../../src/rest/param-names.js';
import { startTestServer, type TestServer } from '../helpers/app.js';

/**
 * A validation error is raised once, by the service, with a field path in the service's names; GraphQL callers
 * must see the argument path they wrote and REST callers the OpenAI parameter they sent. Each case sends the same
 * mistake through both transports.
 */

const COMPLETE = 'mutation ($input: CompletionInput!) { createCompletion(input: $input) { id } }';

interface Case {
  name: string;
  graphql: Record<string, unknown>;
  rest: Record<string, unknown>;
  /** extensions.field (the service's path) and extensions.argumentPath on the GraphQL side. */
  field: string;
  argumentPath: string;
  /** error.param on the REST side, and a text the message must contain. */
  param: string;
  restMessage: string;
}

const graphqlUser = { role: 'USER', content: 'hi' };
const restUser = { role: 'user', content: 'hi' };

const CASES: Case[] = [
  {
    name: 'an empty message list',
    graphql: { messages: [] },
    rest: { messages: [] },
    field: 'messages',
    argumentPath: 'input.messages',
    param: 'messages',
    restMessage: 'messages must contain at least one message',
  },
  {
    name: 'maxTokens above the model’s output ceiling, sent as max_tokens',
    graphql: { messages: [graphqlUser], maxTokens: 5000 },
    rest: { messages: [restUser], max_tokens: 5000 },
    field: 'maxTokens',
    argumentPath: 'input.maxTokens',
    param: 'max_tokens',
    restMessage: 'max_tokens must be at most 4096 for local/echo',
  },
  {
    name: 'maxTokens above the model’s output ceiling, sent as max_completion_tokens',
    graphql: { messages: [graphqlUser], maxTokens: 4097 },
    rest: { messages: [restUser], max_completion_tokens: 4097 },
    field: 'maxTokens',
    argumentPath: 'input.maxTokens',
    param: 'max_completion_tokens',
    restMessage: 'max_completion_tokens must be at most 4096',
  },
  {
    name: 'a tool message without the call it answers',
    graphql: { messages: [graphqlUser, { role: 'TOOL', content: 'sunny' }] },
    rest: { messages: [restUser, { role: 'tool', tool_call_id: ' ', content: 'sunny' }] },
    field: 'messages[1].toolCallId',
    argumentPath: 'input.messages[1].toolCallId',
    param: 'messages[1].tool_call_id',
    restMessage: 'messages[1].tool_call_id is required',
  },
  {
    name: 'a tool name with a space',
    graphql: { messages: [graphqlUser], tools: [{ name: 'ok_tool' }, { name: 'bad name' }] },
    rest: {
      messages: [restUser],
      tools: [
        { type: 'function', function: { name: 'ok_tool' } },
        { type: 'function', function: { name: 'bad name' } },
      ],
    },
    field: 'tools[1].name',
    argumentPath: 'input.tools[1].name',
    param: 'tools[1].function.name',
    restMessage: "tools[1].function.name 'bad name' must be 1-64 letters",
  },
  {
    name: 'too many content parts',
    graphql: { messages: [{ role: 'USER', parts: Array.from({ length: 257 }, () => ({ type: 'TEXT', text: 'x' })) }] },
    rest: { messages: [{ role: 'user', content: Array.from({ length: 257 }, () => ({ type: 'text', text: 'x' })) }] },
    field: 'messages[0].parts',
    argumentPath: 'input.messages[0].parts',
    param: 'messages[0].content',
    restMessage: 'messages[0] has more than 256 content parts',
  },
  {
    name: 'an empty stop sequence',
    graphql: { messages: [graphqlUser], stop: ['end', ''] },
    rest: { messages: [restUser], stop: ['end', ''] },
    field: 'stop[1]',
    argumentPath: 'input.stop[1]',
    param: 'stop[1]',
    restMessage: 'stop[1] must be 1 to 256 characters',
  },
];

describe('one validation error, named in each transport’s terms', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.stop();
  });

  it.each(CASES)('$name', async (testCase) => {
    const body = await server.graphql(COMPLETE, { input: { model: 'local/echo', ...testCase.graphql } });
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_REQUEST', field: testCase.field, argumentPath: testCase.argumentPath });

    const response = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-anything' },
      body: JSON.stringify({ model: 'local/echo', ...testCase.rest }),
    });
    expect(response.status).toBe(400);
    const { error } = (await response.json()) as { error: { param: string | null; message: string; code: string } };
    expect(error).toMatchObject({ code: 'bad_request', param: testCase.param });
    expect(error.message).toContain(testCase.restMessage);
    // The service's own spelling must not leak into the REST answer.
    expect(error.message).not.toMatch(/maxTokens|toolCallId|\.parts\b/);
  });

  it('names a GraphQL argument that is not an input object by itself', async () => {
    const body = await server.graphql('query { models(after: "not a cursor!") { totalCount } }');
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_REQUEST', argumentPath: 'after' });
  });
});

describe('OpenAI parameter names for service field paths', () => {
  it.each([
    [['maxTokens'], 'max_completion_tokens'],
    [['topP'], 'top_p'],
    [['toolChoice'], 'tool_choice'],
    [['responseFormat'], 'response_format'],
    [['responseFormat', 'schema'], 'response_format.json_schema.schema'],
    [['messages', 3, 'toolCalls'], 'messages[3].tool_calls'],
    [['messages', 3, 'toolCalls', 1], 'messages[3].tool_calls[1]'],
    [['messages', 2, 'parts'], 'messages[2].content'],
    [['tools', 4, 'parameters'], 'tools[4].function.parameters'],
    [['provider', 'hedge', 'delayMs'], 'provider.hedge.delay_ms'],
    [['temperature'], 'temperature'],
    [['stop', 0], 'stop[0]'],
  ] as const)('%j → %s', (path, param) => {
    expect(openAIParamName(path)).toBe(param);
  });

  it('names maxTokens as the parameter the caller sent', () => {
    expect(openAIParamName(['maxTokens'], 'max_tokens')).toBe('max_tokens');
  });

  it('leaves the OpenAI names of errors the REST parser raised as they are', () => {
    for (const param of ['max_completion_tokens', 'top_p', 'tool_choice', 'messages[0].content[0].image_url.url', 'tools[0].function.name', 'response_format.json_schema.schema']) {
      expect(openAIParamName(parseFieldPath(param))).toBe(param);
    }
  });

  it('renders the message and param of one error in each vocabulary', () => {
    const error = BadRequestError.atField(['toolChoice'], (name) => `${name(['toolChoice'])} needs ${name(['tools'])}`);
    expect(error).toMatchObject({ message: 'toolChoice needs tools', field: 'toolChoice', fieldPath: ['toolChoice'] });
    expect(toOpenAIErrorBody(error, (path) => openAIParamName(path)).error).toMatchObject({ message: 'tool_choice needs tools', param: 'tool_choice' });
    // An error raised with a plain field text still carries its path.
    expect(new BadRequestError('bad', 'messages[2].content').fieldPath).toEqual(['messages', 2, 'content']);
  });

  it('prefixes the input argument on the GraphQL side unless the path starts at an argument', () => {
    expect(graphqlArgumentPath(['messages', 0, 'content'], ['input'])).toBe('input.messages[0].content');
    expect(graphqlArgumentPath(['after'], ['first', 'after'])).toBe('after');
    expect(graphqlArgumentPath(['providerId'], ['id'])).toBeUndefined();
  });
});

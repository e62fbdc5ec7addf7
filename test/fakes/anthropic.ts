import type { ServerResponse } from 'node:http';
import { z } from 'zod';
import type { FakeUpstream, ReceivedRequest, Script, ScriptedError } from '../conformance/harness.js';
import { sendJson, startFakeServer, streamPieces } from './server.js';

/**
 * A fake Anthropic Messages API that answers in the exact wire format of API version 2023-06-01 (see
 * /work/shared/wire-formats.md section 2): named SSE events, tool_use blocks streamed as input_json_delta
 * fragments, `{"type":"error","error":{...}}` bodies, and the checks the real API makes before it answers.
 */

export interface FakeAnthropicModel {
  id: string;
  display_name: string;
  max_input_tokens?: number;
  max_tokens?: number;
}

export interface FakeAnthropicOptions {
  /** The key the fake accepts in `x-api-key`. */
  apiKey?: string;
  models?: FakeAnthropicModel[];
  /** The error type of the in-band `event: error` sent for a mid-stream-error script. */
  midStreamError?: 'api_error' | 'overloaded_error';
  /**
   * Text the model writes in a text block before a forced tool call (a tool-call script, or a JSON text script
   * under a forced tool_choice). The API does not promise a forced call comes alone, and models do sometimes say
   * something like "Checking." first; without this the fake sends the call alone.
   */
  textBeforeForcedTool?: string;
}

export const FAKE_ANTHROPIC_KEY = 'sk-ant-fake-0123456789';

const DEFAULT_MODELS: FakeAnthropicModel[] = [
  { id: 'claude-sonnet-4-6', display_name: 'Claude Sonnet 4.6', max_input_tokens: 200_000, max_tokens: 64_000 },
  { id: 'claude-haiku-4-5', display_name: 'Claude Haiku 4.5', max_input_tokens: 200_000, max_tokens: 64_000 },
  { id: 'claude-opus-4-6', display_name: 'Claude Opus 4.6', max_input_tokens: 200_000, max_tokens: 128_000 },
];

const blockSchema = z.object({ type: z.string(), text: z.string().optional() }).passthrough();
const requestSchema = z.object({
  model: z.string(),
  max_tokens: z.number().int().min(1),
  messages: z
    .array(z.object({ role: z.enum(['user', 'assistant']), content: z.union([z.string(), z.array(blockSchema).min(1)]) }))
    .min(1),
  stream: z.boolean().optional(),
  tool_choice: z.object({ type: z.string(), name: z.string().optional() }).optional(),
  thinking: z.object({ type: z.string(), budget_tokens: z.number().optional() }).optional(),
});
type MessagesRequest = z.infer<typeof requestSchema>;

interface ErrorReply {
  status: number;
  type: string;
  message: string;
}

const ERROR_REPLIES: Record<ScriptedError, ErrorReply> = {
  bad_request: { status: 400, type: 'invalid_request_error', message: 'messages: text content blocks must be non-empty' },
  context_length_exceeded: { status: 400, type: 'invalid_request_error', message: 'prompt is too long: 213462 tokens > 200000 maximum' },
  authentication: { status: 401, type: 'authentication_error', message: 'invalid x-api-key' },
  not_found: { status: 404, type: 'not_found_error', message: 'model: claude-does-not-exist' },
  rate_limited: { status: 429, type: 'rate_limit_error', message: 'Number of request tokens has exceeded your per-minute rate limit' },
  server_error: { status: 500, type: 'api_error', message: 'Internal server error' },
  overloaded: { status: 529, type: 'overloaded_error', message: 'Overloaded' },
};

let sequence = 0;
function nextId(prefix: string): string {
  sequence++;
  return `${prefix}_fake${sequence.toString().padStart(6, '0')}`;
}

function header(request: ReceivedRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Gateways send the key as `x-api-key`; the official SDK since 1.x sends it as `Authorization: Bearer`, which the
 * API accepts too.
 */
function credential(request: ReceivedRequest): string | undefined {
  const bearer = /^Bearer (.+)$/.exec(header(request, 'authorization') ?? '');
  return header(request, 'x-api-key') ?? bearer?.[1];
}

function sendError(res: ServerResponse, reply: ErrorReply, extraHeaders: Record<string, string> = {}): void {
  const requestId = nextId('req');
  sendJson(res, reply.status, { type: 'error', error: { type: reply.type, message: reply.message }, request_id: requestId }, { 'request-id': requestId, ...extraHeaders });
}

/** The API's validation messages name the field path, e.g. `max_tokens: Field required`. */
function validationMessage(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return 'invalid request';
  const path = issue.path.join('.');
  const missing = issue.code === 'invalid_type' && issue.received === 'undefined';
  return `${path}: ${missing ? 'Field required' : issue.message}`;
}

function lastUserText(request: MessagesRequest): string {
  const last = [...request.messages].reverse().find((message) => message.role === 'user');
  if (last === undefined) return '';
  if (typeof last.content === 'string') return last.content;
  return last.content.map((block) => (block.type === 'text' ? (block.text ?? '') : '')).join('');
}

function defaultScript(request: MessagesRequest): Script {
  const text = `You said: ${lastUserText(request)}`;
  const promptChars = JSON.stringify(request.messages).length;
  return { kind: 'text', text, promptTokens: Math.max(1, Math.ceil(promptChars / 4)), completionTokens: streamPieces(text).length };
}

/**
 * With tool_choice naming a tool the real API answers only with that tool's call. A text script whose text is a
 * JSON object is what such a call's input would be, so it is rendered that way.
 */
function honourForcedTool(script: Script, request: MessagesRequest): Script {
  if (script.kind !== 'text' || request.tool_choice?.type !== 'tool' || request.tool_choice.name === undefined) return script;
  let parsed: unknown;
  try {
    parsed = JSON.parse(script.text);
  } catch {
    return script;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return script;
  return { kind: 'tool-call', id: nextId('toolu'), name: request.tool_choice.name, arguments: script.text, promptTokens: script.promptTokens, completionTokens: script.completionTokens };
}

/** What one reply holds, independent of whether it is sent whole or streamed. */
interface Reply {
  thinking?: string;
  text?: string;
  tool?: { id: string; name: string; arguments: string };
  stopReason: string;
  usage: {
    input_tokens: number;
    cache_creation_input_tokens: number;
    cache_read_input_tokens: number;
    cache_creation: { ephemeral_5m_input_tokens: number; ephemeral_1h_input_tokens: number };
    output_tokens: number;
    output_tokens_details?: { thinking_tokens: number };
  };
}

function replyFor(script: Extract<Script, { kind: 'text' | 'tool-call' | 'length' | 'content-filter' }>, request: MessagesRequest, textBeforeForcedTool: string | undefined): Reply {
  const cached = script.kind === 'text' ? (script.cachedPromptTokens ?? 0) : 0;
  const written = script.kind === 'text' ? (script.cacheWriteTokens ?? 0) : 0;
  const writtenForAnHour = script.kind === 'text' ? (script.cacheWrite1hTokens ?? 0) : 0;
  const usage: Reply['usage'] = {
    input_tokens: script.promptTokens - cached - written,
    cache_creation_input_tokens: written,
    cache_read_input_tokens: cached,
    cache_creation: { ephemeral_5m_input_tokens: written - writtenForAnHour, ephemeral_1h_input_tokens: writtenForAnHour },
    output_tokens: script.kind === 'content-filter' ? 0 : script.completionTokens,
  };
  switch (script.kind) {
    case 'text': {
      const reply: Reply = { text: script.text, stopReason: 'end_turn', usage };
      // Extended thinking on: Claude thinks before it answers, and the thinking is billed as output.
      if (request.thinking?.type === 'enabled') reply.thinking = 'Considering the question.';
      if (script.reasoningTokens !== undefined && script.reasoningTokens > 0) {
        reply.thinking = 'Considering the question.';
        usage.output_tokens_details = { thinking_tokens: script.reasoningTokens };
      }
      return reply;
    }
    case 'length':
      return { text: script.text, stopReason: 'max_tokens', usage };
    case 'content-filter':
      return { stopReason: 'refusal', usage };
    case 'tool-call': {
      // Left to choose, Claude usually says something before calling; a forced tool_choice leaves no room for that.
      const forced = request.tool_choice?.type === 'tool' || request.tool_choice?.type === 'any';
      const text = forced ? textBeforeForcedTool : 'Let me check that.';
      return {
        ...(text !== undefined ? { text } : {}),
        tool: { id: script.id, name: script.name, arguments: script.arguments },
        stopReason: 'tool_use',
        usage,
      };
    }
  }
}

function contentBlocks(reply: Reply): unknown[] {
  const blocks: unknown[] = [];
  if (reply.thinking !== undefined) blocks.push({ type: 'thinking', thinking: reply.thinking, signature: 'c2lnbmF0dXJl' });
  if (reply.text !== undefined) blocks.push({ type: 'text', text: reply.text });
  if (reply.tool !== undefined) {
    const input: unknown = JSON.parse(reply.tool.arguments);
    blocks.push({ type: 'tool_use', id: reply.tool.id, name: reply.tool.name, input });
  }
  return blocks;
}

function sendMessage(res: ServerResponse, reply: Reply, model: string): void {
  const requestId = nextId('req');
  sendJson(
    res,
    200,
    { id: nextId('msg'), type: 'message', role: 'assistant', model, content: contentBlocks(reply), stop_reason: reply.stopReason, stop_sequence: null, usage: reply.usage },
    { 'request-id': requestId },
  );
}

function event(type: string, data: Record<string, unknown>): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
}

function openStream(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'request-id': nextId('req') });
}

/** The opening usage: input counts final, output a placeholder that message_delta replaces. */
function messageStart(model: string, usage: { input_tokens: number; cache_creation_input_tokens?: number; cache_read_input_tokens?: number; cache_creation?: Reply['usage']['cache_creation'] }): string {
  const startUsage = {
    input_tokens: usage.input_tokens,
    cache_creation_input_tokens: usage.cache_creation_input_tokens ?? 0,
    cache_read_input_tokens: usage.cache_read_input_tokens ?? 0,
    cache_creation: usage.cache_creation ?? { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
    output_tokens: 1,
  };
  return event('message_start', {
    message: { id: nextId('msg'), type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: startUsage },
  });
}

/** Splits JSON text into a few fragments, the first one empty, as the API streams tool input. */
function jsonFragments(text: string): string[] {
  const size = Math.max(1, Math.ceil(text.length / 3));
  const fragments = [''];
  for (let start = 0; start < text.length; start += size) fragments.push(text.slice(start, start + size));
  return fragments;
}

function textBlockEvents(index: number, text: string): string[] {
  return [
    event('content_block_start', { index, content_block: { type: 'text', text: '' } }),
    ...streamPieces(text).map((piece) => event('content_block_delta', { index, delta: { type: 'text_delta', text: piece } })),
  ];
}

function streamReply(res: ServerResponse, reply: Reply, model: string): void {
  openStream(res);
  const chunks = [messageStart(model, reply.usage)];
  let index = 0;
  if (reply.thinking !== undefined) {
    chunks.push(
      event('content_block_start', { index, content_block: { type: 'thinking', thinking: '', signature: '' } }),
      event('content_block_delta', { index, delta: { type: 'thinking_delta', thinking: reply.thinking } }),
      event('content_block_delta', { index, delta: { type: 'signature_delta', signature: 'c2lnbmF0dXJl' } }),
      event('content_block_stop', { index }),
    );
    index++;
  }
  if (reply.text !== undefined) {
    const [start, ...deltas] = textBlockEvents(index, reply.text);
    // The keep-alive can arrive anywhere; placing one inside a block checks that clients skip it.
    chunks.push(start!, event('ping', {}), ...deltas, event('content_block_stop', { index }));
    index++;
  }
  if (reply.tool !== undefined) {
    chunks.push(event('content_block_start', { index, content_block: { type: 'tool_use', id: reply.tool.id, name: reply.tool.name, input: {} } }));
    for (const fragment of jsonFragments(reply.tool.arguments)) {
      chunks.push(event('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: fragment } }));
    }
    chunks.push(event('content_block_stop', { index }));
  }
  chunks.push(
    event('message_delta', { delta: { stop_reason: reply.stopReason, stop_sequence: null }, usage: { output_tokens: reply.usage.output_tokens } }),
    event('message_stop', {}),
  );
  for (const chunk of chunks) res.write(chunk);
  res.end();
}

/** The opening of a stream up to and including `textBefore`, for scripts that then fail or stall. */
function partialStream(res: ServerResponse, model: string, textBefore: string, afterFlush?: () => void): void {
  openStream(res);
  const chunks = [messageStart(model, { input_tokens: 10 }), ...textBlockEvents(0, textBefore)];
  chunks.forEach((chunk, position) => res.write(chunk, position === chunks.length - 1 ? afterFlush : undefined));
}

export async function startFakeAnthropic(options: FakeAnthropicOptions = {}): Promise<FakeUpstream> {
  const apiKey = options.apiKey ?? FAKE_ANTHROPIC_KEY;
  const models = options.models ?? DEFAULT_MODELS;
  const midStreamError = options.midStreamError ?? 'api_error';

  return startFakeServer(({ request, res, script }) => {
    const url = new URL(request.path, 'http://fake');
    if (credential(request) !== apiKey) {
      sendError(res, ERROR_REPLIES.authentication);
      return;
    }
    if (header(request, 'anthropic-version') === undefined) {
      sendError(res, { status: 400, type: 'invalid_request_error', message: 'anthropic-version: header is required' });
      return;
    }

    if (request.method === 'GET' && url.pathname === '/v1/models') {
      const limit = Math.min(1000, Math.max(1, Number(url.searchParams.get('limit') ?? 20)));
      const afterId = url.searchParams.get('after_id');
      const start = afterId === null ? 0 : models.findIndex((model) => model.id === afterId) + 1;
      const page = models.slice(start, start + limit).map((model) => ({ type: 'model', created_at: '2025-09-29T00:00:00Z', ...model }));
      sendJson(res, 200, { data: page, has_more: start + limit < models.length, first_id: page[0]?.id ?? null, last_id: page.at(-1)?.id ?? null });
      return;
    }
    if (request.method !== 'POST' || url.pathname !== '/v1/messages') {
      sendError(res, { status: 404, type: 'not_found_error', message: 'Not found' });
      return;
    }

    const parsed = requestSchema.safeParse(request.body);
    if (!parsed.success) {
      sendError(res, { status: 400, type: 'invalid_request_error', message: validationMessage(parsed.error) });
      return;
    }
    const body = parsed.data;
    const streaming = body.stream === true;
    const current = honourForcedTool(script ?? defaultScript(body), body);

    switch (current.kind) {
      case 'error': {
        const canned = ERROR_REPLIES[current.error];
        const reply = { ...canned, message: current.message ?? canned.message, status: current.status ?? canned.status };
        sendError(res, reply, current.retryAfterSeconds !== undefined ? { 'retry-after': String(current.retryAfterSeconds) } : {});
        return;
      }
      case 'malformed':
        if (streaming) {
          openStream(res);
          res.end('event: message_start\ndata: {"type":"message_start","message":{"id":\n\n');
        } else {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end('{"id":"msg_01","type":"message","content":[');
        }
        return;
      case 'mid-stream-error':
        partialStream(res, body.model, current.textBefore);
        res.end(event('error', { error: { type: midStreamError, message: current.message ?? (midStreamError === 'overloaded_error' ? 'Overloaded' : 'Internal server error') } }));
        return;
      case 'hang':
        // Stays open until the client goes away; the server's close() ends it otherwise.
        partialStream(res, body.model, current.textBefore);
        return;
      case 'break':
        partialStream(res, body.model, current.textBefore, () => res.socket?.destroy());
        return;
      default: {
        const reply = replyFor(current, body, options.textBeforeForcedTool);
        if (streaming) streamReply(res, reply, body.model);
        else sendMessage(res, reply, body.model);
      }
    }
  });
}

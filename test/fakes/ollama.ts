import type { ServerResponse } from 'node:http';
import { z } from 'zod';
import type { FakeUpstream, ReceivedRequest, Script, ScriptedError } from '../conformance/harness.js';
import { fakeTokenCount, fakeVector } from './embedding-vectors.js';
import { sendJson, startFakeServer, streamPieces } from './server.js';

/**
 * A fake Ollama server (native API): POST /api/chat answering NDJSON lines or one JSON object, GET /api/tags,
 * `{"error": "…"}` bodies with Ollama's statuses, and the same checks the real server makes on the body.
 */
export interface FakeOllamaOptions {
  /** When set, the fake stands for an Ollama behind an authenticating proxy that wants `Authorization: Bearer <key>`. */
  apiKey?: string;
  /** Names served by GET /api/tags. */
  models?: string[];
}

const JSON_TYPE = 'application/json; charset=utf-8';

/** The real server's answers for each scripted failure (wire-formats.md, section 4a). Wording of 400s is Ollama's own. */
function scriptedError(error: ScriptedError, model: string): { status: number; message: string } {
  switch (error) {
    case 'bad_request':
      return { status: 400, message: `registry.ollama.ai/library/${model} does not support tools` };
    case 'context_length_exceeded':
      return { status: 400, message: 'input length (9000 tokens) exceeds maximum context length (8192 tokens)' };
    case 'authentication':
      return { status: 401, message: 'unauthorized' };
    case 'not_found':
      return { status: 404, message: `model "${model}" not found, try pulling it first` };
    case 'rate_limited':
      return { status: 429, message: 'too many requests, please try again later' };
    case 'server_error':
      return { status: 500, message: 'llama runner process has terminated: exit status 2' };
    case 'overloaded':
      return { status: 503, message: 'server busy, please try again.  maximum pending requests exceeded' };
  }
}

const chatRequestSchema = z.object({
  model: z.string().optional(),
  stream: z.boolean().optional(),
  messages: z.array(z.object({ role: z.string(), content: z.string().optional() })).optional(),
  logprobs: z.boolean().optional(),
  top_logprobs: z.number().int().min(0).max(20).optional(),
});

function sendError(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { error: message }, { 'content-type': JSON_TYPE, ...headers });
}

function headerValue(request: ReceivedRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function words(text: string): number {
  return Math.max(1, streamPieces(text).length);
}

/** Durations are nanoseconds; the values only have to look like Ollama's. */
function finalMetrics(promptTokens: number, completionTokens: number): Record<string, number> {
  return {
    total_duration: 912_000_000,
    load_duration: 2_100_000,
    // Go's omitempty drops a zero count, e.g. for a fully cached prompt.
    ...(promptTokens > 0 ? { prompt_eval_count: promptTokens } : {}),
    prompt_eval_duration: 120_000_000,
    ...(completionTokens > 0 ? { eval_count: completionTokens } : {}),
    eval_duration: 700_000_000,
  };
}

const embedRequestSchema = z.object({
  model: z.string(),
  input: z.union([z.string(), z.array(z.string())]),
  truncate: z.boolean().optional(),
  dimensions: z.number().int().positive().optional(),
});

/** Starts the fake on 127.0.0.1 port 0. */
export async function startFakeOllama(options: FakeOllamaOptions = {}): Promise<FakeUpstream> {
  const models = options.models ?? ['llama3.2:latest', 'qwen3:8b'];
  let tick = 0;
  const createdAt = (): string => new Date(Date.UTC(2025, 0, 1, 10, 0, 0, tick++)).toISOString();

  return startFakeServer(({ request, req, res, script }) => {
    if (options.apiKey !== undefined && headerValue(request, 'authorization') !== `Bearer ${options.apiKey}`) {
      sendError(res, 401, 'unauthorized');
      return;
    }
    const path = new URL(request.path, 'http://fake').pathname;
    if (request.method === 'GET' && path === '/') {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('Ollama is running');
      return;
    }
    if (request.method === 'GET' && path === '/api/tags') {
      sendJson(res, 200, {
        models: models.map((name) => ({
          name,
          model: name,
          modified_at: '2025-01-01T09:00:00.000000000Z',
          size: 2_019_393_189,
          digest: 'a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72',
          details: { parent_model: '', format: 'gguf', family: 'llama', families: ['llama'], parameter_size: '3.2B', quantization_level: 'Q4_K_M' },
        })),
      }, { 'content-type': JSON_TYPE });
      return;
    }
    if (request.method === 'POST' && path === '/api/embed') {
      if (script?.kind === 'error') {
        sendError(res, script.status ?? 500, script.message ?? 'embedding failed');
        return;
      }
      const parsed = embedRequestSchema.safeParse(request.body);
      if (!parsed.success) {
        sendError(res, 400, 'json: cannot unmarshal value into Go struct field EmbedRequest of type api.EmbedRequest');
        return;
      }
      if (parsed.data.model === '') {
        sendError(res, 400, 'model is required');
        return;
      }
      const texts = typeof parsed.data.input === 'string' ? [parsed.data.input] : parsed.data.input;
      sendJson(res, 200, {
        model: parsed.data.model,
        embeddings: texts.map((text) => fakeVector(text, parsed.data.dimensions ?? 768)),
        total_duration: 14_143_917,
        load_duration: 1_019_500,
        prompt_eval_count: texts.reduce((sum, text) => sum + fakeTokenCount(text), 0),
      }, { 'content-type': JSON_TYPE });
      return;
    }
    if (request.method !== 'POST' || path !== '/api/chat') {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('404 page not found');
      return;
    }

    if (request.body === '') {
      sendError(res, 400, 'missing request body');
      return;
    }
    if (typeof request.body !== 'object' || request.body === null) {
      sendError(res, 400, "invalid character '<' looking for beginning of value");
      return;
    }
    const parsed = chatRequestSchema.safeParse(request.body);
    if (!parsed.success) {
      sendError(res, 400, 'json: cannot unmarshal value into Go struct field ChatRequest of type api.ChatRequest');
      return;
    }
    const model = parsed.data.model ?? '';
    if (model === '') {
      sendError(res, 400, 'model is required');
      return;
    }
    const streaming = parsed.data.stream ?? true;
    const messages = parsed.data.messages ?? [];
    const line = (message: Record<string, unknown>, rest: Record<string, unknown> = {}): Record<string, unknown> => ({
      model,
      created_at: createdAt(),
      message: { role: 'assistant', content: '', ...message },
      ...rest,
    });

    // Without messages the real server only loads the model and answers at once with done_reason "load".
    if (messages.length === 0) {
      const loaded = line({}, { done_reason: 'load', done: true });
      if (streaming) writeLines(res, [loaded]);
      else sendJson(res, 200, loaded, { 'content-type': JSON_TYPE });
      return;
    }

    const lastUser = [...messages].reverse().find((message) => message.role === 'user')?.content ?? '';
    const reply: Script = script ?? { kind: 'text', text: `You said: ${lastUser}`, promptTokens: words(lastUser), completionTokens: words(lastUser) + 2 };

    switch (reply.kind) {
      case 'text':
      case 'length':
      case 'tool-call':
      case 'content-filter': {
        // Ollama has no content filter: a refusal is just a short, normally stopped answer.
        const doneReason = reply.kind === 'length' ? 'length' : 'stop';
        const completion = reply.kind === 'content-filter' ? 0 : reply.completionTokens;
        const done = line({}, { done: true, done_reason: doneReason, ...finalMetrics(reply.promptTokens, completion) });
        if (reply.kind === 'tool-call') {
          const args: unknown = JSON.parse(reply.arguments);
          const call = { tool_calls: [{ function: { name: reply.name, arguments: args } }] };
          if (streaming) writeLines(res, [line(call, { done: false }), done]);
          else sendJson(res, 200, { ...done, message: { role: 'assistant', content: '', ...call } }, { 'content-type': JSON_TYPE });
          return;
        }
        const text = reply.kind === 'content-filter' ? '' : reply.text;
        // With logprobs: true each line (or the whole reply) carries its tokens' log probabilities, as Ollama 0.12.11+ does.
        const logprobsOf = (piece: string): Record<string, unknown> =>
          parsed.data.logprobs === true
            ? {
                logprobs: streamPieces(piece).map((token, step) => ({
                  token,
                  logprob: -0.125 * (step + 1),
                  ...(parsed.data.top_logprobs ? { top_logprobs: Array.from({ length: parsed.data.top_logprobs }, (_, rank) => ({ token: rank === 0 ? token : `${token}%${rank}`, logprob: -0.125 * (step + 1) - rank })) } : {}),
                })),
              }
            : {};
        if (streaming) writeLines(res, [...streamPieces(text).map((piece) => line({ content: piece }, { done: false, ...logprobsOf(piece) })), done]);
        else sendJson(res, 200, { ...done, message: { role: 'assistant', content: text }, ...logprobsOf(text) }, { 'content-type': JSON_TYPE });
        return;
      }
      case 'error': {
        const canned = scriptedError(reply.error, model);
        sendError(res, reply.status ?? canned.status, reply.message ?? canned.message, reply.retryAfterSeconds !== undefined ? { 'retry-after': String(reply.retryAfterSeconds) } : {});
        return;
      }
      case 'mid-stream-error': {
        if (!streaming) {
          sendError(res, 500, 'llama runner process has terminated: exit status 2');
          return;
        }
        writeLines(res, [...streamPieces(reply.textBefore).map((piece) => line({ content: piece }, { done: false })), { error: reply.message ?? 'llama runner process has terminated: exit status 2' }]);
        return;
      }
      case 'hang':
      case 'break': {
        const after = reply.kind === 'break' ? (): void => void req.socket.destroy() : (): void => undefined;
        res.writeHead(200, { 'content-type': streaming ? 'application/x-ndjson' : JSON_TYPE });
        const partial = streaming
          ? `${JSON.stringify(line({ content: reply.textBefore }, { done: false }))}\n`
          : `{"model":${JSON.stringify(model)},"message":{"role":"assistant","content":${JSON.stringify(reply.textBefore)}`;
        res.write(partial, after);
        return;
      }
      case 'malformed': {
        res.writeHead(200, { 'content-type': streaming ? 'application/x-ndjson' : JSON_TYPE });
        res.end(streaming ? '{"model":"' + model + '","message":{\n' : '<html><body>proxy hiccup</body></html>');
        return;
      }
    }
  });
}

function writeLines(res: ServerResponse, lines: unknown[]): void {
  res.writeHead(200, { 'content-type': 'application/x-ndjson' });
  for (const value of lines) res.write(`${JSON.stringify(value)}\n`);
  res.end();
}

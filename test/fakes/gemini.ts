import type { ServerResponse } from 'node:http';
import { z } from 'zod';
import type { FakeUpstream, ReceivedRequest, Script, ScriptedError } from '../conformance/harness.js';
import { fakeVector } from './embedding-vectors.js';
import { sendJson, startFakeServer, streamPieces } from './server.js';

/**
 * A fake Generative Language API (Gemini) that answers the way the real one does: same paths, same checks
 * on the key and the body, GenerateContentResponse JSON, data-only SSE for `alt=sse` (and the JSON-array
 * stream without it), and Google's error envelope with the real statuses.
 */
export interface FakeGeminiOptions {
  /** When set, any other key is refused as the real API refuses a bad key (400 API_KEY_INVALID). */
  apiKey?: string;
  /** Models served by GET /v1beta/models. */
  models?: FakeGeminiModel[];
  /** The largest page GET /v1beta/models returns (the real API caps pageSize at 1000). */
  maxPageSize?: number;
}

export interface FakeGeminiModel {
  name: string;
  displayName: string;
  inputTokenLimit: number;
  outputTokenLimit: number;
  supportedGenerationMethods: string[];
}

const DEFAULT_MODELS: FakeGeminiModel[] = [
  { name: 'models/gemini-2.5-flash', displayName: 'Gemini 2.5 Flash', inputTokenLimit: 1_048_576, outputTokenLimit: 65_536, supportedGenerationMethods: ['generateContent', 'countTokens', 'createCachedContent', 'batchGenerateContent'] },
  { name: 'models/gemini-2.5-pro', displayName: 'Gemini 2.5 Pro', inputTokenLimit: 1_048_576, outputTokenLimit: 65_536, supportedGenerationMethods: ['generateContent', 'countTokens', 'createCachedContent', 'batchGenerateContent'] },
  { name: 'models/gemini-embedding-001', displayName: 'Gemini Embedding 001', inputTokenLimit: 2048, outputTokenLimit: 1, supportedGenerationMethods: ['embedContent', 'countTextTokens', 'countTokens'] },
];

const partSchema = z.object({ text: z.string().optional() }).passthrough();
const requestSchema = z.object({
  contents: z.array(z.object({ role: z.string().optional(), parts: z.array(partSchema).optional() })).optional(),
  generationConfig: z
    .object({ candidateCount: z.number().int().min(1).max(8).optional(), responseLogprobs: z.boolean().optional(), logprobs: z.number().int().min(0).max(20).optional() })
    .passthrough()
    .optional(),
});

const EMBED_PATH = /^\/v1beta\/((?:models|tunedModels)\/[^/:]+):(embedContent|batchEmbedContents)$/;
const embedContentSchema = z.object({
  model: z.string().optional(),
  content: z.object({ parts: z.array(partSchema).min(1) }),
  taskType: z.string().optional(),
  outputDimensionality: z.number().int().positive().optional(),
});
const batchEmbedSchema = z.object({ requests: z.array(embedContentSchema).min(1) });

/** embedContent and batchEmbedContents as the Generative Language API answers them: values only, no token counts. */
function embedReply(model: string, method: string, body: unknown): { error: GoogleErrorShape } | { answer: unknown } {
  const vectorOf = (request: z.infer<typeof embedContentSchema>) => ({ values: fakeVector(request.content.parts.map((part) => part.text ?? '').join(''), request.outputDimensionality ?? 3072) });
  if (method === 'embedContent') {
    const parsed = embedContentSchema.safeParse(body);
    if (!parsed.success) return { error: googleError(400, 'INVALID_ARGUMENT', `Invalid JSON payload received. ${parsed.error.issues[0]?.message ?? ''}`.trim()) };
    return { answer: { embedding: vectorOf(parsed.data) } };
  }
  const parsed = batchEmbedSchema.safeParse(body);
  if (!parsed.success) return { error: googleError(400, 'INVALID_ARGUMENT', `Invalid JSON payload received. ${parsed.error.issues[0]?.message ?? ''}`.trim()) };
  if (parsed.data.requests.length > 100) return { error: googleError(400, 'INVALID_ARGUMENT', '* BatchEmbedContentsRequest.requests: at most 100 requests can be in one batch\n') };
  const stray = parsed.data.requests.findIndex((request) => request.model !== model);
  // The real API insists each request names the model of the URL.
  if (stray !== -1) return { error: googleError(400, 'INVALID_ARGUMENT', `* BatchEmbedContentsRequest.requests[${stray}].model: model must be ${model}.\n`) };
  return { answer: { embeddings: parsed.data.requests.map(vectorOf) } };
}

/** Gemini's logprobsResult for a text: one decoding step per streamed piece, deterministic figures. */
function logprobsResult(text: string, top: number): Fragment {
  const steps = streamPieces(text);
  return {
    chosenCandidates: steps.map((token, step) => ({ token, tokenId: 1000 + step, logProbability: -0.5 * (step + 1) })),
    topCandidates: steps.map((token, step) => ({ candidates: Array.from({ length: top }, (_, rank) => ({ token: rank === 0 ? token : `${token}#${rank}`, tokenId: 2000 + rank, logProbability: -0.5 * (step + 1) - rank })) })),
  };
}

const GENERATE_PATH = /^\/v1beta\/((?:models|tunedModels)\/[^/:]+):(generateContent|streamGenerateContent)$/;

interface GoogleErrorShape {
  status: number;
  body: { error: { code: number; message: string; status: string; details?: unknown[] } };
}

function googleError(code: number, status: string, message: string, details?: unknown[]): GoogleErrorShape {
  return { status: code, body: { error: { code, message, status, ...(details ? { details } : {}) } } };
}

/** The real API's answers for each scripted failure (wire-formats.md, section 3). */
function scriptedError(error: ScriptedError, model: string, retryAfterSeconds: number | undefined): GoogleErrorShape {
  switch (error) {
    case 'bad_request':
      return googleError(400, 'INVALID_ARGUMENT', 'Request contains an invalid argument.');
    case 'context_length_exceeded':
      return googleError(400, 'INVALID_ARGUMENT', 'The input token count (1300000) exceeds the maximum number of tokens allowed (1048576).');
    case 'authentication':
      return invalidKey();
    case 'not_found':
      return googleError(404, 'NOT_FOUND', `${model} is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods.`);
    case 'rate_limited':
      return googleError(429, 'RESOURCE_EXHAUSTED', 'You exceeded your current quota, please check your plan and billing details.', [
        { '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [{ quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests', quotaId: 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier' }] },
        // The retry hint is in the body; Google sends no retry-after header.
        ...(retryAfterSeconds !== undefined ? [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${retryAfterSeconds}s` }] : []),
      ]);
    case 'server_error':
      return googleError(500, 'INTERNAL', 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting');
    case 'overloaded':
      return googleError(503, 'UNAVAILABLE', 'The model is overloaded. Please try again later.');
  }
}

function invalidKey(): GoogleErrorShape {
  return googleError(400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', [
    { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com', metadata: { service: 'generativelanguage.googleapis.com' } },
    { '@type': 'type.googleapis.com/google.rpc.LocalizedMessage', locale: 'en-US', message: 'API key not valid. Please pass a valid API key.' },
  ]);
}

function sendError(res: ServerResponse, error: GoogleErrorShape): void {
  sendJson(res, error.status, error.body, { 'content-type': 'application/json; charset=UTF-8' });
}

/** The text of the last user turn, for the default echo reply. */
function lastUserText(body: z.infer<typeof requestSchema>): string {
  const turn = [...(body.contents ?? [])].reverse().find((content) => content.role === undefined || content.role === 'user');
  return (turn?.parts ?? []).map((part) => part.text ?? '').join('');
}

function words(text: string): number {
  return Math.max(1, streamPieces(text).length);
}

type Fragment = Record<string, unknown>;

/** The replies that complete normally, as the fragments a stream sends (a whole reply is one merged fragment). */
function replyFragments(script: Extract<Script, { kind: 'text' | 'tool-call' | 'length' | 'content-filter' }>): { fragments: Fragment[]; usage: Fragment; finishReason: string } {
  if (script.kind === 'content-filter') {
    return {
      fragments: [],
      usage: { promptTokenCount: script.promptTokens, totalTokenCount: script.promptTokens, promptTokensDetails: [{ modality: 'TEXT', tokenCount: script.promptTokens }] },
      finishReason: 'SAFETY',
    };
  }
  const reasoning = script.kind === 'text' ? (script.reasoningTokens ?? 0) : 0;
  const cached = script.kind === 'text' ? (script.cachedPromptTokens ?? 0) : 0;
  // Proto3 JSON leaves zero counts out; thoughts are counted apart from candidatesTokenCount but inside the total.
  const usage: Fragment = {
    promptTokenCount: script.promptTokens,
    candidatesTokenCount: script.completionTokens - reasoning,
    totalTokenCount: script.promptTokens + script.completionTokens,
    ...(cached > 0 ? { cachedContentTokenCount: cached } : {}),
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: script.promptTokens }],
    ...(reasoning > 0 ? { thoughtsTokenCount: reasoning } : {}),
  };
  if (script.kind === 'tool-call') {
    const args: unknown = JSON.parse(script.arguments);
    return { fragments: [{ functionCall: { name: script.name, args } }], usage, finishReason: 'STOP' };
  }
  return { fragments: streamPieces(script.text).map((text) => ({ text })), usage, finishReason: script.kind === 'length' ? 'MAX_TOKENS' : 'STOP' };
}

const SAFETY_RATINGS = [
  { category: 'HARM_CATEGORY_SEXUALLY_EXPLICIT', probability: 'NEGLIGIBLE' },
  { category: 'HARM_CATEGORY_HATE_SPEECH', probability: 'NEGLIGIBLE' },
  { category: 'HARM_CATEGORY_HARASSMENT', probability: 'NEGLIGIBLE' },
  { category: 'HARM_CATEGORY_DANGEROUS_CONTENT', probability: 'HIGH', blocked: true },
];

let responseCounter = 0;

/** Starts the fake on 127.0.0.1 port 0. */
export async function startFakeGemini(options: FakeGeminiOptions = {}): Promise<FakeUpstream> {
  const models = options.models ?? DEFAULT_MODELS;
  const maxPageSize = options.maxPageSize ?? 1000;

  return startFakeServer(({ request, req, res, script }) => {
    const url = new URL(request.path, 'http://fake');
    const key = headerValue(request, 'x-goog-api-key') ?? url.searchParams.get('key') ?? undefined;
    if (key === undefined || key === '') {
      sendError(res, googleError(403, 'PERMISSION_DENIED', "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API."));
      return;
    }
    if (options.apiKey !== undefined && key !== options.apiKey) {
      sendError(res, invalidKey());
      return;
    }

    if (request.method === 'GET' && url.pathname === '/v1beta/models') {
      const pageSize = Math.min(Number(url.searchParams.get('pageSize') ?? 50) || 50, maxPageSize);
      const offset = Number(url.searchParams.get('pageToken') ?? 0) || 0;
      const page = models.slice(offset, offset + pageSize);
      const next = offset + pageSize < models.length ? String(offset + pageSize) : undefined;
      sendJson(res, 200, { models: page, ...(next !== undefined ? { nextPageToken: next } : {}) });
      return;
    }

    const embedRoute = request.method === 'POST' ? EMBED_PATH.exec(url.pathname) : null;
    if (embedRoute) {
      if (script?.kind === 'error') return sendError(res, scriptedError(script.error, embedRoute[1] ?? '', script.retryAfterSeconds));
      const reply = embedReply(embedRoute[1] ?? '', embedRoute[2] ?? '', request.body);
      if ('answer' in reply) sendJson(res, 200, reply.answer, { 'content-type': 'application/json; charset=UTF-8' });
      else sendError(res, reply.error);
      return;
    }

    const route = GENERATE_PATH.exec(url.pathname);
    if (request.method !== 'POST' || !route) {
      res.writeHead(404, { 'content-type': 'text/html; charset=UTF-8' });
      res.end(`<!DOCTYPE html><html><title>Error 404 (Not Found)!!1</title><p>The requested URL <code>${url.pathname}</code> was not found on this server.</p></html>`);
      return;
    }
    const model = route[1] ?? '';
    const streaming = route[2] === 'streamGenerateContent';
    const sse = url.searchParams.get('alt') === 'sse';

    if (typeof request.body !== 'object' || request.body === null) {
      sendError(res, googleError(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received. Unexpected token.'));
      return;
    }
    const parsed = requestSchema.safeParse(request.body);
    if (!parsed.success) {
      sendError(res, googleError(400, 'INVALID_ARGUMENT', `Invalid JSON payload received. ${parsed.error.issues[0]?.message ?? ''}`.trim()));
      return;
    }
    const contents = parsed.data.contents ?? [];
    if (contents.length === 0) {
      sendError(res, googleError(400, 'INVALID_ARGUMENT', '* GenerateContentRequest.contents: contents is not specified\n'));
      return;
    }
    const badRole = contents.findIndex((content) => content.role !== undefined && content.role !== 'user' && content.role !== 'model');
    if (badRole !== -1) {
      sendError(res, googleError(400, 'INVALID_ARGUMENT', 'Please use a valid role: user, model.'));
      return;
    }
    const emptyParts = contents.findIndex((content) => (content.parts ?? []).length === 0);
    if (emptyParts !== -1) {
      sendError(res, googleError(400, 'INVALID_ARGUMENT', `* GenerateContentRequest.contents[${emptyParts}].parts: contents.parts must not be empty.\n`));
      return;
    }

    const reply: Script = script ?? {
      kind: 'text',
      text: `You said: ${lastUserText(parsed.data)}`,
      promptTokens: words(lastUserText(parsed.data)),
      completionTokens: words(lastUserText(parsed.data)) + 2,
    };
    const envelope = { modelVersion: model.replace(/^[^/]+\//, ''), responseId: `fake-${++responseCounter}` };
    const writer = streaming ? streamWriter(res, sse) : undefined;

    switch (reply.kind) {
      case 'text':
      case 'tool-call':
      case 'length':
      case 'content-filter': {
        const { fragments, usage, finishReason } = replyFragments(reply);
        const blocked = reply.kind === 'content-filter' ? { safetyRatings: SAFETY_RATINGS } : {};
        if (writer === undefined) {
          // candidateCount: each further candidate says which it is; the usage counts all of them, as Gemini's does.
          const config = parsed.data.generationConfig;
          const count = config?.candidateCount ?? 1;
          const candidates = Array.from({ length: count }, (_, index) => {
            const parts = mergeText(fragments).map((part) => (index > 0 && typeof part.text === 'string' ? { ...part, text: `${part.text} (candidate ${index})` } : part));
            const content = fragments.length > 0 ? { content: { parts, role: 'model' } } : {};
            const text = parts.map((part) => (typeof part.text === 'string' ? part.text : '')).join('');
            const withLogprobs = config?.responseLogprobs === true ? { logprobsResult: logprobsResult(text, config.logprobs ?? 0) } : {};
            return { ...content, finishReason, ...blocked, index, ...withLogprobs };
          });
          const counted = count > 1 && typeof usage.candidatesTokenCount === 'number' ? { ...usage, candidatesTokenCount: usage.candidatesTokenCount * count } : usage;
          sendJson(res, 200, { candidates, usageMetadata: counted, ...envelope }, { 'content-type': 'application/json; charset=UTF-8' });
          return;
        }
        // Early fragments carry only the prompt count; the last carries the finish reason and the full usage.
        const early = { promptTokenCount: usage['promptTokenCount'], totalTokenCount: usage['promptTokenCount'] };
        const streamConfig = parsed.data.generationConfig;
        const stepLogprobs = (part: Fragment | undefined): Fragment =>
          streamConfig?.responseLogprobs === true && typeof part?.['text'] === 'string' ? { logprobsResult: logprobsResult(part['text'], streamConfig.logprobs ?? 0) } : {};
        fragments.slice(0, -1).forEach((part) => writer.send({ candidates: [{ content: { parts: [part], role: 'model' }, index: 0, ...stepLogprobs(part) }], usageMetadata: early, ...envelope }));
        const last = fragments.at(-1);
        writer.send({ candidates: [{ ...(last ? { content: { parts: [last], role: 'model' } } : {}), finishReason, ...blocked, index: 0, ...stepLogprobs(last) }], usageMetadata: usage, ...envelope });
        writer.end();
        return;
      }
      case 'error': {
        const canned = scriptedError(reply.error, model, reply.retryAfterSeconds);
        sendError(res, { status: reply.status ?? canned.status, body: { error: { ...canned.body.error, message: reply.message ?? canned.body.error.message } } });
        return;
      }
      case 'mid-stream-error': {
        if (writer === undefined) {
          sendError(res, scriptedError('server_error', model, undefined));
          return;
        }
        for (const text of streamPieces(reply.textBefore)) writer.send({ candidates: [{ content: { parts: [{ text }], role: 'model' }, index: 0 }], ...envelope });
        writer.send({ error: { code: 500, message: reply.message ?? 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting', status: 'INTERNAL' } });
        writer.end();
        return;
      }
      case 'hang':
      case 'break': {
        const textBefore = reply.textBefore;
        const after = reply.kind === 'break' ? (): void => void req.socket.destroy() : (): void => undefined;
        if (writer === undefined) {
          // A whole reply cut off partway: the headers and the start of the JSON, and nothing after.
          res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8' });
          res.write(`{"candidates":[{"content":{"parts":[{"text":${JSON.stringify(textBefore)}`, after);
          return;
        }
        writer.send({ candidates: [{ content: { parts: [{ text: textBefore }], role: 'model' }, index: 0 }], ...envelope }, after);
        return;
      }
      case 'malformed': {
        if (writer === undefined) {
          res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8' });
          res.end('<html><body>upstream proxy hiccup</body></html>');
          return;
        }
        writer.raw('{"candidates":[{"content":');
        writer.end();
        return;
      }
    }
  });
}

/** A whole reply carries one text part, where the stream sent the same text in pieces. */
function mergeText(fragments: Fragment[]): Fragment[] {
  const texts = fragments.filter((part) => typeof part['text'] === 'string');
  if (texts.length !== fragments.length) return fragments;
  return [{ text: texts.map((part) => String(part['text'])).join('') }];
}

function headerValue(request: ReceivedRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

interface StreamWriter {
  send(fragment: unknown, flushed?: () => void): void;
  /** Writes one event whose data is the given text as is. */
  raw(data: string): void;
  end(): void;
}

/**
 * `alt=sse`: one `data:` line per fragment, each event ended by a blank line (CRLF, as Google's front end sends
 * it [unverified]; the SDK accepts LF or CRLF). Without it, the reply is one JSON array written piece by piece.
 */
function streamWriter(res: ServerResponse, sse: boolean): StreamWriter {
  let first = true;
  res.writeHead(200, { 'content-type': sse ? 'text/event-stream' : 'application/json; charset=UTF-8', 'cache-control': 'no-cache' });
  if (!sse) res.write('[');
  const write = (data: string, flushed?: () => void): void => {
    if (sse) res.write(`data: ${data}\r\n\r\n`, flushed);
    else res.write(`${first ? '' : ',\r\n'}${data}`, flushed);
    first = false;
  };
  return {
    send: (fragment, flushed) => write(JSON.stringify(fragment), flushed),
    raw: (data) => write(data),
    end: () => res.end(sse ? undefined : ']'),
  };
}

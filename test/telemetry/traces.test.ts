import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ProxyTracerProvider, trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeUpstream } from '../conformance/harness.js';
import { FAKE_OPENAI_KEY, startFakeOpenAI } from '../fakes/openai.js';
import { startTestServer, type TestServer } from '../helpers/app.js';
import { subscribeWs, wsClient } from '../helpers/subscriptions.js';

/** One span as OTLP/JSON carries it (only the fields read here). */
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Array<{ key: string; value: OtlpValue }>;
}
interface OtlpValue {
  stringValue?: string;
  intValue?: number | string;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values: OtlpValue[] };
}
interface ExportTraceServiceRequest {
  resourceSpans: Array<{ resource: { attributes: OtlpSpan['attributes'] }; scopeSpans: Array<{ spans: OtlpSpan[] }> }>;
}

function plain(value: OtlpValue): unknown {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.arrayValue !== undefined) return value.arrayValue.values.map(plain);
  return undefined;
}

function attributes(span: OtlpSpan): Record<string, unknown> {
  return Object.fromEntries(span.attributes.map((attribute) => [attribute.key, plain(attribute.value)]));
}

/** A minimal OTLP HTTP collector: POST /v1/traces with JSON, every request kept as it arrived. */
async function startOtlpReceiver(): Promise<{ url: string; requests: ExportTraceServiceRequest[]; paths: string[]; contentTypes: string[]; close(): Promise<void> }> {
  const requests: ExportTraceServiceRequest[] = [];
  const paths: string[] = [];
  const contentTypes: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      paths.push(`${req.method ?? ''} ${req.url ?? ''}`);
      contentTypes.push(req.headers['content-type'] ?? '');
      requests.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as ExportTraceServiceRequest);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    paths,
    contentTypes,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const hello = [{ role: 'user', content: 'Hello' }];
const COMPLETE = 'mutation ($input: CompletionInput!) { createCompletion(input: $input) { id usage { promptTokens completionTokens } } }';
// One retry at once, and a breaker that never opens: each request is exactly a 500 then an answer.
const ROUTING = { SWITCHBOARD_MAX_RETRIES: '1', SWITCHBOARD_RETRY_BASE_MS: '1', SWITCHBOARD_BREAKER_FAILURES: '1000' };

describe('without OTEL_EXPORTER_OTLP_ENDPOINT', () => {
  let fake: FakeUpstream;
  let server: TestServer;
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    fake = await startFakeOpenAI();
    server = await startTestServer({ OPENAI_API_KEY: FAKE_OPENAI_KEY, OPENAI_BASE_URL: fake.url, ...ROUTING });
  });
  afterAll(async () => {
    await server.stop();
    await fake.close();
    await receiver.close();
  });

  it('registers no tracer provider, exports nothing, and still forwards the request id upstream (without traceparent)', async () => {
    fake.enqueue({ kind: 'text', text: 'Hi', promptTokens: 5, completionTokens: 1 });
    const response = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'openai/gpt-4o-mini', messages: hello }),
    });
    expect(response.status).toBe(200);
    await server.stop();

    const provider = trace.getTracerProvider();
    expect(provider).toBeInstanceOf(ProxyTracerProvider);
    const delegate = (provider as ProxyTracerProvider).getDelegate();
    expect(delegate.constructor.name).toBe('NoopTracerProvider');
    expect(delegate.getTracer('probe').startSpan('probe').isRecording()).toBe(false);
    expect(receiver.requests).toHaveLength(0);

    const upstream = fake.received.at(-1);
    expect(upstream?.headers['x-request-id']).toBe(response.headers.get('x-request-id'));
    expect(upstream?.headers['traceparent']).toBeUndefined();
  });
});

describe('with OTEL_EXPORTER_OTLP_ENDPOINT', () => {
  let fake: FakeUpstream;
  let server: TestServer;
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  let spans: OtlpSpan[];
  let restRequestId: string | null;
  const graphqlRequestId = 'req-graphql-traced-1';
  let upstreamHeaders: Array<Record<string, string | string[] | undefined>>;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    fake = await startFakeOpenAI();
    server = await startTestServer({
      OPENAI_API_KEY: FAKE_OPENAI_KEY,
      OPENAI_BASE_URL: fake.url,
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_SERVICE_NAME: 'switchboard-test',
      ...ROUTING,
    });

    fake.enqueue({ kind: 'error', error: 'server_error' });
    fake.enqueue({ kind: 'text', text: 'Hi there', promptTokens: 11, completionTokens: 3 });
    const response = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'openai/gpt-4o-mini', messages: hello }),
    });
    expect(response.status).toBe(200);
    restRequestId = response.headers.get('x-request-id');

    fake.enqueue({ kind: 'error', error: 'server_error' });
    fake.enqueue({ kind: 'text', text: 'Hello again', promptTokens: 13, completionTokens: 4 });
    const body = await server.graphql(COMPLETE, { input: { model: 'openai/gpt-4o-mini', messages: [{ role: 'USER', content: 'hi' }] } }, { 'x-request-id': graphqlRequestId });
    expect(body.errors).toBeUndefined();

    // A streamed completion over WebSocket: its operation is a root span of its own, with no HTTP request under it.
    fake.enqueue({ kind: 'text', text: 'Streamed', promptTokens: 7, completionTokens: 2 });
    const client = wsClient(server.wsUrl);
    const results = await subscribeWs(client, 'subscription ($input: CompletionInput!) { completionStream(input: $input) { __typename } }', {
      input: { model: 'openai/gpt-4o-mini', messages: [{ role: 'USER', content: 'hi' }] },
    });
    await client.dispose();
    expect(results.at(-1)?.data).toEqual({ completionStream: { __typename: 'CompletionDone' } });

    upstreamHeaders = fake.received.map((request) => request.headers);
    // Stopping flushes the batch processor: every span of both requests is exported by then.
    await server.stop();
    spans = receiver.requests.flatMap((request) => request.resourceSpans.flatMap((resource) => resource.scopeSpans.flatMap((scope) => scope.spans)));
  });
  afterAll(async () => {
    await server.stop();
    await fake.close();
    await receiver.close();
  });

  function treeOf(rootName: string): { root: OtlpSpan; children: (span: OtlpSpan) => OtlpSpan[]; all: OtlpSpan[] } {
    const root = spans.find((span) => span.name === rootName && !span.parentSpanId);
    if (!root) throw new Error(`no root span ${rootName} among ${spans.map((span) => span.name).join(', ')}`);
    const all = spans.filter((span) => span.traceId === root.traceId);
    return { root, all, children: (parent) => all.filter((span) => span.parentSpanId === parent.spanId) };
  }

  it('exports OTLP/JSON to <endpoint>/v1/traces under the configured service name', () => {
    expect(receiver.paths.every((path) => path === 'POST /v1/traces')).toBe(true);
    expect(receiver.contentTypes.every((type) => type.startsWith('application/json'))).toBe(true);
    const resource = receiver.requests[0]?.resourceSpans[0]?.resource;
    expect(resource && attributes({ attributes: resource.attributes } as OtlpSpan)['service.name']).toBe('switchboard-test');
  });

  for (const transport of ['REST', 'GraphQL'] as const) {
    it(`nests admission, two attempts (retry 0 then 1), their upstream calls and the ledger commit under the ${transport} request span`, () => {
      const rootName = transport === 'REST' ? 'POST /v1/chat/completions' : 'graphql mutation createCompletion';
      const tokens = transport === 'REST' ? { input: 11, output: 3 } : { input: 13, output: 4 };
      const { root, children } = treeOf(rootName);
      expect(root.kind).toBe(2); // SERVER
      const rootAttributes = attributes(root);
      expect(rootAttributes).toMatchObject({
        'http.request.method': 'POST',
        'http.response.status_code': 200,
        'switchboard.request_id': transport === 'REST' ? restRequestId : graphqlRequestId,
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'openai/gpt-4o-mini',
        'gen_ai.usage.input_tokens': tokens.input,
        'gen_ai.usage.output_tokens': tokens.output,
        'gen_ai.response.finish_reasons': ['stop'],
      });
      expect(rootAttributes['switchboard.cost_usd']).toBeGreaterThan(0);
      expect(rootAttributes['gen_ai.response.model']).toEqual(expect.any(String));

      const names = children(root).map((span) => span.name);
      expect(names).toContain('switchboard.admission');
      expect(names).toContain('switchboard.ledger.commit');
      const attempts = children(root).filter((span) => span.name === 'chat gpt-4o-mini');
      expect(attempts.map((span) => attributes(span)['switchboard.attempt.retry']).sort()).toEqual([0, 1]);
      const [failed, succeeded] = [...attempts].sort((a, b) => Number(attributes(a)['switchboard.attempt.retry']) - Number(attributes(b)['switchboard.attempt.retry']));
      expect(attributes(failed!)).toMatchObject({ 'switchboard.attempt.outcome': 'FAILED', 'switchboard.attempt.hedged': false, 'gen_ai.provider.name': 'openai', 'http.response.status_code': 500 });
      expect(attributes(succeeded!)).toMatchObject({ 'switchboard.attempt.outcome': 'SUCCEEDED', 'gen_ai.usage.input_tokens': tokens.input, 'gen_ai.usage.output_tokens': tokens.output });

      const fakeUrl = new URL(fake.url);
      for (const [attempt, status] of [[failed!, 500], [succeeded!, 200]] as const) {
        const upstream = children(attempt);
        expect(upstream).toHaveLength(1);
        expect(upstream[0]?.kind).toBe(3); // CLIENT
        expect(attributes(upstream[0]!)).toMatchObject({
          'http.request.method': 'POST',
          'server.address': fakeUrl.hostname,
          'url.full': `${fake.url}/chat/completions`,
          'http.response.status_code': status,
        });
      }
    });
  }

  it('forwards traceparent (the upstream span as parent, in the exported trace) and x-request-id on every provider call', () => {
    expect(upstreamHeaders).toHaveLength(5);
    const rest = treeOf('POST /v1/chat/completions');
    const graphql = treeOf('graphql mutation createCompletion');
    for (const [index, headers] of upstreamHeaders.slice(0, 4).entries()) {
      const tree = index < 2 ? rest : graphql;
      const traceparent = String(headers['traceparent']);
      const [, traceId, parentId] = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(traceparent) ?? [];
      expect(traceId).toBe(tree.root.traceId);
      expect(tree.all.find((span) => span.spanId === parentId)?.kind).toBe(3);
      expect(headers['x-request-id']).toBe(index < 2 ? restRequestId : graphqlRequestId);
    }
  });

  it('gives a WebSocket operation its own root span, with the streamed attempt, its upstream call and the ledger commit under it', () => {
    const { root, children } = treeOf('graphql subscription completionStream');
    expect(attributes(root)).toMatchObject({ 'graphql.operation.type': 'subscription', 'gen_ai.usage.input_tokens': 7, 'gen_ai.usage.output_tokens': 2, 'gen_ai.request.model': 'openai/gpt-4o-mini' });
    const attempt = children(root).find((span) => span.name === 'chat gpt-4o-mini');
    expect(attempt && attributes(attempt)).toMatchObject({ 'switchboard.attempt.retry': 0, 'switchboard.attempt.outcome': 'SUCCEEDED' });
    expect(children(attempt!).map((span) => span.kind)).toEqual([3]);
    expect(children(root).map((span) => span.name)).toContain('switchboard.ledger.commit');
    const upstream = upstreamHeaders[4];
    expect(String(upstream?.['traceparent'])).toContain(root.traceId);
    expect(upstream?.['x-request-id']).toEqual(attributes(root)['switchboard.request_id']);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeUpstream } from '../conformance/harness.js';
import { FAKE_OPENAI_KEY, startFakeOpenAI } from '../fakes/openai.js';
import { startTestServer, type TestServer } from '../helpers/app.js';
import { waitFor, wsClient } from '../helpers/subscriptions.js';

const COMPLETE = 'mutation ($input: CompletionInput!) { createCompletion(input: $input) { id } }';
const input = (text: string) => ({ input: { model: 'openai/gpt-4o-mini', messages: [{ role: 'USER', content: text }] } });

interface Row {
  id: string;
  status: string;
  requestedModel: string;
}

/**
 * A createCompletion sent over a WebSocket is the caller's like one over HTTP: when the socket closes, or the client
 * sends `complete` for it, the upstream call is aborted and the generation is recorded CANCELLED, not run to the end
 * and charged. The upstream here hangs until its client goes away, so only a cancellation can end the request.
 */
describe('a createCompletion over graphql-ws ends with its caller', () => {
  let server: TestServer;
  let openai: FakeUpstream;

  beforeAll(async () => {
    openai = await startFakeOpenAI();
    server = await startTestServer({ OPENAI_API_KEY: FAKE_OPENAI_KEY, OPENAI_BASE_URL: openai.url });
  });
  afterAll(async () => {
    await server.stop();
    await openai.close();
  });

  /** The newest generation for a prompt, read from the ledger. */
  const latest = async (): Promise<Row | undefined> => {
    const body = await server.graphql<{ generations: { edges: Array<{ node: Row }> } }>('{ generations(first: 1) { edges { node { id status requestedModel } } } }');
    return body.data?.generations.edges[0]?.node;
  };

  /** Queues a hanging upstream answer; the returned wait resolves once the gateway's request reached it. */
  const hangNext = (): (() => Promise<unknown>) => {
    const received = openai.received.length;
    openai.enqueue({ kind: 'hang', textBefore: '' });
    return () => waitFor(() => (openai.received.length > received ? true : undefined));
  };

  it('cancels it when the socket closes', async () => {
    const client = wsClient(server.wsUrl, {}, { keepOpen: true });
    const reached = hangNext();
    void client.iterate({ query: COMPLETE, variables: input('close on me') }).next().catch(() => undefined);
    await reached();
    await waitFor(async () => ((await latest())?.status === 'IN_PROGRESS' ? true : undefined));
    await client.dispose();
    const row = await waitFor(async () => {
      const found = await latest();
      return found?.status === 'IN_PROGRESS' ? undefined : found;
    });
    expect(row.status).toBe('CANCELLED');
    // The upstream request was aborted too, not left hanging.
    await waitFor(() => (openai.activeResponses() === 0 ? true : undefined));
  });

  it('cancels it when the client completes the operation, and the socket stays usable', async () => {
    const client = wsClient(server.wsUrl, {}, { keepOpen: true });
    const reached = hangNext();
    const iterator = client.iterate({ query: COMPLETE, variables: input('complete me') });
    void iterator.next().catch(() => undefined);
    await reached();
    await waitFor(async () => ((await latest())?.status === 'IN_PROGRESS' ? true : undefined));
    // graphql-ws sends `complete` for the operation when the iteration is ended early.
    await iterator.return?.();
    const row = await waitFor(async () => {
      const found = await latest();
      return found?.status === 'IN_PROGRESS' ? undefined : found;
    });
    expect(row.status).toBe('CANCELLED');
    await waitFor(() => (openai.activeResponses() === 0 ? true : undefined));

    // The next operation on the same socket runs normally: only the completed one was aborted.
    const next = await client.iterate<{ createCompletion: { id: string } }>({ query: COMPLETE, variables: input('and now answer') }).next();
    expect(next.value?.data?.createCompletion.id).toMatch(/^gen_/);
    expect((await latest())?.status).toBe('SUCCEEDED');
    await client.dispose();
  });
});

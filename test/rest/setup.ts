import OpenAI from 'openai';
import type { FakeUpstream } from '../conformance/harness.js';
import { FAKE_OPENAI_KEY, startFakeOpenAI } from '../fakes/openai.js';
import { startTestServer, type TestServer } from '../helpers/app.js';

export interface RestFixture {
  server: TestServer;
  fake: FakeUpstream;
  /** The official SDK pointed at the gateway's /v1, exactly as the README tells users to. */
  client(apiKey?: string): OpenAI;
  /** A generation's ledger row, read back through GraphQL. */
  generation(id: string): Promise<{ status: string; streamed: boolean; finishReason: string | null; provider: { id: string } | null } | null>;
  stop(): Promise<void>;
}

/**
 * The real gateway on port 0 with the OpenAI provider pointed at a fake upstream, so `openai/<model>` goes there
 * and `local/echo` stays in process.
 */
export async function startRestFixture(env: Record<string, string> = {}, options: Parameters<typeof startTestServer>[1] = {}): Promise<RestFixture> {
  const fake = await startFakeOpenAI();
  const server = await startTestServer({ OPENAI_API_KEY: FAKE_OPENAI_KEY, OPENAI_BASE_URL: fake.url, ...env }, options);
  const adminKey = env['SWITCHBOARD_ADMIN_KEY'];
  return {
    server,
    fake,
    // No SDK retries: each test sees exactly the response the gateway gave.
    client: (apiKey = adminKey ?? 'sk-anything') => new OpenAI({ apiKey, baseURL: `${server.url}/v1`, maxRetries: 0 }),
    async generation(id) {
      const body = await server.graphql<{ generation: { status: string; streamed: boolean; finishReason: string | null; provider: { id: string } | null } | null }>(
        'query ($id: ID!) { generation(id: $id) { status streamed finishReason provider { id } } }',
        { id },
        adminKey ? { authorization: `Bearer ${adminKey}` } : {},
      );
      if (body.errors) throw new Error(JSON.stringify(body.errors));
      return body.data?.generation ?? null;
    },
    async stop() {
      await server.stop();
      await fake.close();
    },
  };
}

/** The generation id a response names, from its chat completion id. */
export function generationIdOf(completionId: string): string {
  if (!completionId.startsWith('chatcmpl-')) throw new Error(`unexpected completion id ${completionId}`);
  return completionId.slice('chatcmpl-'.length);
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeUpstream } from '../conformance/harness.js';
import { FAKE_OPENAI_KEY, startFakeOpenAI } from '../fakes/openai.js';
import { startTestServer, type TestServer } from '../helpers/app.js';
import { query, type ModelsPage } from './graphql.js';

/**
 * A page of models with everything that hangs off a model (endpoints, their providers, aliases, pricing and usage)
 * must cost a fixed number of SQL statements, whatever the page size: the DataLoaders batch every relation.
 */

const CATALOG_PAGE = `
  query($first: Int!, $from: DateTime) {
    models(first: $first, orderBy: { field: PRICE }) {
      totalCount
      edges { node {
        id name contextLength aliases
        pricing { promptPerMillion completionPerMillion known }
        endpoints { providerModelId status pricing { promptPerMillion } provider { id name kind enabled } }
        usage(from: $from) { requests errors costUsd costKnown latencyP50Ms latencyP95Ms }
      } }
    }
  }`;

interface Node {
  id: string;
  endpoints: Array<{ provider: { id: string } }>;
  usage: { requests: number; costUsd: number };
}

let server: TestServer;
let openai: FakeUpstream;
const statements: string[] = [];

beforeAll(async () => {
  // 45 models the seed does not have, so the catalog holds well over 100 after a sync.
  openai = await startFakeOpenAI({ models: Array.from({ length: 45 }, (_, index) => `house-model-${String(index).padStart(2, '0')}`) });
  server = await startTestServer({ OPENAI_API_KEY: FAKE_OPENAI_KEY, OPENAI_BASE_URL: openai.url }, { onStatement: (sql) => statements.push(sql) });
  await query(server, `mutation { syncProviderModels(providerId: "openai") { listed } }`);
  for (const text of ['one', 'two words', 'three more words']) {
    await query(server, `mutation($text: String!) { createCompletion(input: { model: "local/echo", messages: [{ role: USER, content: $text }] }) { id } }`, { text });
  }
});
afterAll(async () => {
  await Promise.all([server.stop(), openai.close()]);
});

async function measure(first: number): Promise<{ nodes: Node[]; statements: string[] }> {
  statements.length = 0;
  const data = await query<ModelsPage<Node>>(server, CATALOG_PAGE, { first, from: '2000-01-01T00:00:00Z' });
  return { nodes: data.models.edges.map((edge) => edge.node), statements: [...statements] };
}

describe('a catalog page', () => {
  it('of 100 models with endpoints, providers and usage runs a small fixed number of statements', async () => {
    const large = await measure(100);
    expect(large.nodes).toHaveLength(100);
    expect(new Set(large.nodes.flatMap((node) => node.endpoints.map((endpoint) => endpoint.provider.id))).size).toBeGreaterThan(5);
    const echo = large.nodes.find((node) => node.id === 'local/echo');
    expect(echo?.usage.requests).toBe(3);

    // The page, totalCount, endpoints, providers, aliases and usage: one statement each.
    expect(large.statements.length, large.statements.join('\n')).toBeLessThanOrEqual(6);

    const small = await measure(5);
    expect(small.nodes).toHaveLength(5);
    expect(small.statements.length).toBe(large.statements.length);
  });
});

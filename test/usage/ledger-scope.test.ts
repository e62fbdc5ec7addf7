import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordAudit } from '../../src/db/audit.js';
import { startTestServer, type TestServer } from '../helpers/app.js';
import { waitFor, wsClient } from '../helpers/subscriptions.js';

const ADMIN_KEY = 'sk-admin-scope-test-0123456789';
const admin = { authorization: `Bearer ${ADMIN_KEY}` };

const CREATE_KEY = /* GraphQL */ `
  mutation CreateKey($input: CreateApiKeyInput!) { createApiKey(input: $input) { apiKey { id } secret } }
`;
const COMPLETE = /* GraphQL */ `
  mutation Complete($input: CompletionInput!) { createCompletion(input: $input) { id } }
`;
const echo = (text: string) => ({ input: { model: 'local/echo', messages: [{ role: 'USER', content: text }] } });
const T0 = Date.UTC(2026, 0, 1);

const AUDIT = /* GraphQL */ `
  query Audit($first: Int, $after: String, $filter: AuditFilter) {
    auditLog(first: $first, after: $after, filter: $filter) {
      edges { node { id actorKeyId action targetType targetId before after createdAt } }
      pageInfo { hasNextPage endCursor }
    }
  }
`;

interface AuditPage {
  auditLog: {
    edges: Array<{ node: { id: string; actorKeyId: string | null; action: string; targetType: string; targetId: string; before: unknown; after: unknown; createdAt: string } }>;
    pageInfo: { hasNextPage: boolean; endCursor: string };
  };
}

describe('admin and key access to the ledger and the audit log', () => {
  let server: TestServer;
  let keyId: string;
  let keyHeaders: Record<string, string>;
  let keySecret: string;

  beforeAll(async () => {
    server = await startTestServer({ SWITCHBOARD_ADMIN_KEY: ADMIN_KEY });
    const created = await server.graphql<{ createApiKey: { apiKey: { id: string }; secret: string } }>(CREATE_KEY, { input: { name: 'reader', scopes: ['COMPLETIONS'] } }, admin);
    expect(created.errors).toBeUndefined();
    keyId = created.data!.createApiKey.apiKey.id;
    keySecret = created.data!.createApiKey.secret;
    keyHeaders = { authorization: `Bearer ${keySecret}` };
    for (let index = 0; index < 5; index++) {
      recordAudit(server.app.services.db, { actorKeyId: null, action: 'model.update', targetType: 'model', targetId: `m/${index}`, before: { index }, after: { index: index + 1 } }, T0 + index * 1000);
    }
  });
  afterAll(async () => {
    await server.stop();
  });

  it('records key changes in the audit trail, without the secret', async () => {
    const body = await server.graphql<{ auditLog: { edges: Array<{ node: { action: string; targetId: string; after: Record<string, unknown> } }> } }>(
      `{ auditLog(filter: { targetType: "api_key" }) { edges { node { action targetId after } } } }`,
      {},
      admin,
    );
    expect(body.errors).toBeUndefined();
    const [entry] = body.data!.auditLog.edges;
    expect(entry!.node).toMatchObject({ action: 'api_key.create', targetId: keyId, after: { id: keyId, name: 'reader' } });
    expect(JSON.stringify(body.data)).not.toContain(keySecret);
    expect(entry!.node.after).not.toHaveProperty('secretHash');
  });

  it('pages through admin changes newest first, with target and time filters', async () => {
    const models = { targetType: 'model' };
    const first = await server.graphql<AuditPage>(AUDIT, { first: 2, filter: models }, admin);
    expect(first.errors).toBeUndefined();
    expect(first.data!.auditLog.edges.map((edge) => edge.node.targetId)).toEqual(['m/4', 'm/3']);
    expect(first.data!.auditLog.edges[0]!.node).toMatchObject({ actorKeyId: null, action: 'model.update', targetType: 'model', before: { index: 4 }, after: { index: 5 }, createdAt: new Date(T0 + 4000).toISOString() });
    expect(first.data!.auditLog.pageInfo.hasNextPage).toBe(true);
    const next = await server.graphql<AuditPage>(AUDIT, { first: 10, after: first.data!.auditLog.pageInfo.endCursor, filter: models }, admin);
    expect(next.data!.auditLog.edges.map((edge) => edge.node.targetId)).toEqual(['m/2', 'm/1', 'm/0']);
    const one = await server.graphql<AuditPage>(AUDIT, { filter: { targetType: 'model', targetId: 'm/1' } }, admin);
    expect(one.data!.auditLog.edges.map((edge) => edge.node.targetId)).toEqual(['m/1']);
    const window = await server.graphql<AuditPage>(AUDIT, { filter: { from: new Date(T0 + 1000).toISOString(), to: new Date(T0 + 3000).toISOString() } }, admin);
    expect(window.data!.auditLog.edges.map((edge) => edge.node.targetId)).toEqual(['m/2', 'm/1']);
  });

  it('refuses the audit log without a key', async () => {
    const body = await server.graphql<AuditPage>(AUDIT, { first: 1 });
    expect(body.data?.auditLog ?? null).toBeNull();
    expect(body.errors?.[0]?.extensions?.['code']).toBe('UNAUTHENTICATED');
  });

  it('refuses the audit log to a key without the admin scope', async () => {
    const body = await server.graphql(`{ auditLog { edges { node { id } } } }`, {}, keyHeaders);
    expect(body.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
  });

  it('shows a key its own generations and usage only, and keeps it off other keys', async () => {
    const own = await server.graphql<{ createCompletion: { id: string } }>(COMPLETE, echo('mine'), keyHeaders);
    const theirs = await server.graphql<{ createCompletion: { id: string } }>(COMPLETE, echo('the admin’s'), admin);
    const ownId = own.data!.createCompletion.id;
    const theirId = theirs.data!.createCompletion.id;

    const list = await server.graphql<{ generations: { edges: Array<{ node: { id: string; apiKeyId: string } }> } }>(`{ generations { edges { node { id apiKeyId } } } }`, {}, keyHeaders);
    expect(list.data!.generations.edges.map((edge) => edge.node)).toEqual([{ id: ownId, apiKeyId: keyId }]);
    const other = await server.graphql<{ generation: unknown }>(`query($id: ID!) { generation(id: $id) { id } }`, { id: theirId }, keyHeaders);
    expect(other.data!.generation).toBeNull();
    const usage = await server.graphql<{ usage: Array<{ key: { apiKeyId: string }; requests: number }> }>(`{ usage(groupBy: [KEY]) { key { apiKeyId } requests } }`, {}, keyHeaders);
    expect(usage.data!.usage).toEqual([{ key: { apiKeyId: keyId }, requests: 1 }]);
    const forbidden = await server.graphql(`{ usage(filter: { apiKeyId: "key_someone_else" }) { requests } }`, {}, keyHeaders);
    expect(forbidden.errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    const everyone = await server.graphql<{ usage: Array<{ requests: number }> }>(`{ usage { requests } }`, {}, admin);
    expect(everyone.data!.usage[0]!.requests).toBe(2);
  });

  it('streams a key only its own usage events', async () => {
    const client = wsClient(server.wsUrl, { authorization: `Bearer ${keySecret}` });
    const iterator = client.iterate<{ usageEvents: { id: string; apiKeyId: string | null } }>({ query: 'subscription { usageEvents { id apiKeyId } }' });
    const first = iterator.next();
    await waitFor(() => server.app.services.recorder.finished.subscriberCount === 1 || undefined);
    await server.graphql(COMPLETE, echo('admin first'), admin);
    const own = await server.graphql<{ createCompletion: { id: string } }>(COMPLETE, echo('then mine'), keyHeaders);
    const result = await first;
    expect(result.value?.data?.usageEvents).toEqual({ id: own.data!.createCompletion.id, apiKeyId: keyId });
    await iterator.return?.();
    await client.dispose();
  });
});

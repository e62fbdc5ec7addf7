import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
    // Reading one's own ledger takes READ; COMPLETIONS alone only makes requests (test below).
    const created = await server.graphql<{ createApiKey: { apiKey: { id: string }; secret: string } }>(CREATE_KEY, { input: { name: 'reader', scopes: ['COMPLETIONS', 'READ'] } }, admin);
    expect(created.errors).toBeUndefined();
    keyId = created.data!.createApiKey.apiKey.id;
    keySecret = created.data!.createApiKey.secret;
    keyHeaders = { authorization: `Bearer ${keySecret}` };
    for (let index = 0; index < 5; index++) {
      await server.app.services.storage.audit.record({ actorKeyId: null, action: 'model.update', targetType: 'model', targetId: `m/${index}`, before: { index }, after: { index: index + 1 } }, T0 + index * 1000);
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

  it('keeps the ledger from a key without READ, shows a READ-only key its own (none), and shows the admin all', async () => {
    const key = async (name: string, scopes: string[]) => {
      const body = await server.graphql<{ createApiKey: { apiKey: { id: string }; secret: string } }>(CREATE_KEY, { input: { name, scopes } }, admin);
      expect(body.errors).toBeUndefined();
      return { id: body.data!.createApiKey.apiKey.id, headers: { authorization: `Bearer ${body.data!.createApiKey.secret}` }, secret: body.data!.createApiKey.secret };
    };
    const caller = await key('completions only', ['COMPLETIONS']);
    const readOnly = await key('read only', ['READ']);

    // COMPLETIONS alone may make requests and see itself, but not read the ledger, not even its own rows.
    const made = await server.graphql<{ createCompletion: { id: string } }>(COMPLETE, echo('unreadable'), caller.headers);
    expect(made.errors).toBeUndefined();
    const madeId = made.data!.createCompletion.id;
    const me = await server.graphql<{ me: { id: string } }>(`{ me { id } }`, {}, caller.headers);
    expect(me.data?.me).toEqual({ id: caller.id });
    for (const query of [
      `{ generations { edges { node { id } } } }`,
      `{ generation(id: "${madeId}") { id } }`,
      `{ usage { requests } }`,
      `{ usage(groupBy: [KEY]) { key { apiKeyId } requests } }`,
    ]) {
      const body = await server.graphql(query, {}, caller.headers);
      expect(body.errors?.[0]?.extensions?.['code'], query).toBe('FORBIDDEN');
      // A nullable field reads as null beside the error; nothing of the ledger comes back.
      expect(JSON.stringify(body.data ?? null), query).not.toMatch(/gen_|requests/);
    }
    const events = wsClient(server.wsUrl, { authorization: `Bearer ${caller.secret}` });
    // graphql-ws reports a refused subscription as an error result or a thrown error list; either names the code.
    const refused = await events.iterate({ query: 'subscription { usageEvents { id } }' }).next().then(
      (result) => result.value,
      (error: unknown) => error,
    );
    expect(JSON.stringify(refused)).toContain('FORBIDDEN');
    await events.dispose();

    // READ alone reads its own key's rows: there are none, and another key's row reads as absent.
    const list = await server.graphql<{ generations: { edges: unknown[] } }>(`{ generations { edges { node { id } } } }`, {}, readOnly.headers);
    expect(list.errors).toBeUndefined();
    expect(list.data!.generations.edges).toEqual([]);
    const other = await server.graphql<{ generation: unknown }>(`query($id: ID!) { generation(id: $id) { id } }`, { id: madeId }, readOnly.headers);
    expect(other.errors).toBeUndefined();
    expect(other.data!.generation).toBeNull();
    const usage = await server.graphql<{ usage: unknown[] }>(`{ usage(groupBy: [KEY]) { requests } }`, {}, readOnly.headers);
    expect(usage.errors).toBeUndefined();
    expect(usage.data!.usage).toEqual([]);
    expect((await server.graphql(`{ usage(filter: { apiKeyId: "${caller.id}" }) { requests } }`, {}, readOnly.headers)).errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');
    expect((await server.graphql(COMPLETE, echo('no'), readOnly.headers)).errors?.[0]?.extensions?.['code']).toBe('FORBIDDEN');

    // The admin sees every key's rows, the unreadable one included.
    const all = await server.graphql<{ generation: { id: string; apiKeyId: string } }>(`query($id: ID!) { generation(id: $id) { id apiKeyId } }`, { id: madeId }, admin);
    expect(all.data!.generation).toEqual({ id: madeId, apiKeyId: caller.id });
    const byKey = await server.graphql<{ usage: Array<{ key: { apiKeyId: string | null } }> }>(`{ usage(groupBy: [KEY]) { key { apiKeyId } } }`, {}, admin);
    expect(byKey.data!.usage.map((bucket) => bucket.key.apiKeyId)).toEqual(expect.arrayContaining([null, keyId, caller.id]));
  });
});

import { resolveCursorConnection, type ResolveCursorConnectionArgs } from '@pothos/plugin-relay';
import { builder } from '../builder.js';
import type { Context } from '../context.js';
import type { AuditFilter } from '../db/audit.js';
import type { AuditRow } from '../db/schema.js';

/** Records an admin change in the audit trail with the acting key; secret fields are dropped by the trail itself. */
export function auditChange(
  context: Pick<Context, 'viewer' | 'services'>,
  action: string,
  targetType: string,
  targetId: string,
  before: object | null | undefined,
  after: object | null | undefined,
): Promise<void> {
  return context.services.audit({
    actorKeyId: context.viewer.apiKeyId,
    action,
    targetType,
    targetId,
    before: before ? { ...before } : null,
    after: after ? { ...after } : null,
  });
}

/** The top-level fields whose values differ between two snapshots, compared as JSON. */
function changedFields(before: Record<string, unknown> | null, after: Record<string, unknown> | null): string[] {
  const names = new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})]);
  return [...names].filter((name) => JSON.stringify(before?.[name]) !== JSON.stringify(after?.[name])).sort();
}

const SNAPSHOT_REASON =
  'A snapshot of the target as stored when the change was made (an ApiKey, Provider, Model or ModelEndpoint record, secrets left out; a sync outcome for provider.sync). ' +
  'It stays JSON on purpose: an entry keeps the shape its target had at the time, which a typed field would have to rewrite whenever a table gains a column. Null when there was nothing before (a creation).';

const AuditEntryRef = builder.objectRef<AuditRow>('AuditEntry').implement({
  description: 'One admin change: who made it, when, and the target before and after (secrets left out)',
  fields: (t) => ({
    id: t.exposeID('id'),
    actorKeyId: t.string({ nullable: true, description: 'The acting key; null for the bootstrap admin key and open local mode', resolve: (row) => row.actorKeyId }),
    action: t.exposeString('action', { description: '`<target type>.<verb>`, e.g. api_key.create, provider.update, model_endpoint.update, provider.sync' }),
    // A String on purpose: each admin mutation names its own target (the audit trail's AuditTargetType is open), so
    // a new kind of admin change needs no schema change to be recorded and read back.
    targetType: t.exposeString('targetType', { description: 'What was changed: api_key, provider, model or model_endpoint today; new admin mutations may add their own' }),
    targetId: t.exposeString('targetId'),
    changedFields: t.stringList({ description: 'The top-level fields of the snapshots whose values differ between before and after', resolve: (row) => changedFields(row.before, row.after) }),
    before: t.field({ type: 'JSON', nullable: true, description: SNAPSHOT_REASON, resolve: (row) => row.before }),
    after: t.field({ type: 'JSON', nullable: true, description: 'The target after the change; see `before` for why this is JSON', resolve: (row) => row.after }),
    createdAt: t.field({ type: 'DateTime', resolve: (row) => row.createdAt }),
  }),
});

const AuditFilterInput = builder.inputType('AuditFilter', {
  fields: (t) => ({
    targetType: t.string({ description: 'api_key, provider, model, model_endpoint' }),
    targetId: t.string(),
    from: t.field({ type: 'DateTime', description: 'Inclusive' }),
    to: t.field({ type: 'DateTime', description: 'Exclusive' }),
  }),
});

function toAuditFilter(filter: typeof AuditFilterInput.$inferInput | null | undefined): AuditFilter {
  return {
    ...(filter?.targetType ? { targetType: filter.targetType } : {}),
    ...(filter?.targetId ? { targetId: filter.targetId } : {}),
    ...(filter?.from ? { from: filter.from.getTime() } : {}),
    ...(filter?.to ? { to: filter.to.getTime() } : {}),
  };
}

builder.queryFields((t) => ({
  auditLog: t.connection(
    {
      type: AuditEntryRef,
      description: 'Admin changes, newest first (admin)',
      authScopes: { admin: true },
      args: { filter: t.arg({ type: AuditFilterInput }) },
      resolve: async (_root, args, context) => {
        const filter = toAuditFilter(args.filter);
        const connection = await resolveCursorConnection({ args, toCursor: (row: AuditRow) => row.id, defaultSize: 50, maxSize: 500 }, ({ after, before, limit, inverted }: ResolveCursorConnectionArgs) =>
          context.services.storage.audit.list(filter, { limit, oldestFirst: inverted, ...(after ? { olderThan: after } : {}), ...(before ? { newerThan: before } : {}) }),
        );
        return { ...connection, totalCount: () => context.services.storage.audit.count(filter) };
      },
    },
    {
      name: 'AuditEntryConnection',
      fields: (t) => ({ totalCount: t.field({ type: 'SafeInt', description: 'Entries matching the filter, across all pages', resolve: (connection) => connection.totalCount() }) }),
    },
    { name: 'AuditEntryEdge' },
  ),
}));

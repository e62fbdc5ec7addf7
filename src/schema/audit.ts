import { resolveCursorConnection, type ResolveCursorConnectionArgs } from '@pothos/plugin-relay';
import { builder } from '../builder.js';
import { listAudit } from '../db/audit.js';
import type { AuditRow } from '../db/schema.js';
import { requireAdmin } from './guards.js';

const AuditEntryRef = builder.objectRef<AuditRow>('AuditEntry').implement({
  description: 'One admin change: who made it, when, and the target before and after (secrets left out)',
  fields: (t) => ({
    id: t.exposeID('id'),
    actorKeyId: t.string({ nullable: true, description: 'The acting key; null for the bootstrap admin key and open local mode', resolve: (row) => row.actorKeyId }),
    action: t.exposeString('action'),
    targetType: t.exposeString('targetType'),
    targetId: t.exposeString('targetId'),
    before: t.field({ type: 'JSON', nullable: true, resolve: (row) => row.before }),
    after: t.field({ type: 'JSON', nullable: true, resolve: (row) => row.after }),
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

builder.queryFields((t) => ({
  auditLog: t.connection(
    {
      type: AuditEntryRef,
      description: 'Admin changes, newest first (admin)',
      args: { filter: t.arg({ type: AuditFilterInput }) },
      resolve: (_root, args, context) => {
        requireAdmin(context);
        const filter = args.filter;
        return resolveCursorConnection({ args, toCursor: (row: AuditRow) => row.id, defaultSize: 50, maxSize: 500 }, ({ after, before, limit, inverted }: ResolveCursorConnectionArgs) =>
          listAudit(
            context.services.db,
            {
              ...(filter?.targetType ? { targetType: filter.targetType } : {}),
              ...(filter?.targetId ? { targetId: filter.targetId } : {}),
              ...(filter?.from ? { from: filter.from.getTime() } : {}),
              ...(filter?.to ? { to: filter.to.getTime() } : {}),
            },
            { limit, oldestFirst: inverted, ...(after ? { olderThan: after } : {}), ...(before ? { newerThan: before } : {}) },
          ),
        );
      },
    },
    { name: 'AuditEntryConnection' },
    { name: 'AuditEntryEdge' },
  ),
}));

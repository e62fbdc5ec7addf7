import { builder } from '../builder.js';
import { syncProviderCatalog, type CatalogSyncOutcome } from '../catalog/sync.js';
import { auditChange } from './audit.js';
import { ModelEndpointRef, ModelRef } from './models.js';
import { ProviderRef } from './providers.js';

const CatalogSyncResultRef = builder.objectRef<CatalogSyncOutcome>('CatalogSyncResult').implement({
  description: 'What a catalog sync changed',
  fields: (t) => ({
    provider: t.field({ type: ProviderRef, resolve: (result) => result.provider }),
    listed: t.exposeInt('listed', { description: 'Models the provider listed' }),
    addedEndpoints: t.field({
      type: [ModelEndpointRef],
      description: 'Endpoints added for listed models the catalog lacked, with unknown prices until an admin sets them',
      resolve: (result) => result.addedEndpoints,
    }),
    createdModels: t.field({ type: [ModelRef], description: 'Catalog models created for listed ids that matched no catalog model', resolve: (result) => result.createdModels }),
    unchanged: t.exposeInt('unchanged', { description: 'Listed models the catalog already had an endpoint for' }),
    notListed: t.exposeStringList('notListed', { description: 'Provider model ids in the catalog that the provider no longer lists; left as they are' }),
  }),
});

builder.mutationFields((t) => ({
  syncProviderModels: t.field({
    type: CatalogSyncResultRef,
    description:
      'Admin: lists an enabled provider’s models from its API and adds the endpoints the catalog lacks. A listed id is linked to the catalog model that has it as a provider model id elsewhere, or whose id is `vendor/<listed id>`, or that has it as an alias; otherwise a model `<provider>/<listed id>` is created.',
    authScopes: { admin: true },
    args: { providerId: t.arg.id({ required: true }) },
    resolve: async (_root, args, context) => {
      const result = await syncProviderCatalog(context.services, String(args.providerId), context.signal ? { signal: context.signal } : {});
      context.services.feed.publish('catalog');
      await context.services.catalog.refresh();
      await auditChange(context, 'provider.sync', 'provider', String(args.providerId), null, result);
      return result;
    },
  }),
}));

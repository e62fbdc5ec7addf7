import type { CatalogSyncLookups, CatalogSyncMatcher, SyncResult } from '../db/catalog-admin.js';
import type { CatalogStore } from '../db/storage.js';
import type { ProviderRow } from '../db/schema.js';
import { BadRequestError, TimeoutError } from '../errors.js';
import type { AdapterRegistry } from '../providers/registry.js';
import type { ProviderModelInfo } from '../providers/types.js';
import { directModelId } from '../ids.js';

export interface CatalogSyncOutcome extends SyncResult {
  provider: ProviderRow;
}

export interface CatalogSyncOptions {
  /** The caller's signal (the client went away). */
  signal?: AbortSignal;
  /** How long the provider may take to list its models. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;

/** The part of a model id after its vendor: `openai/gpt-4o` → `gpt-4o`. */
function idSuffix(modelId: string): string {
  return modelId.slice(modelId.indexOf('/') + 1);
}

/**
 * How a listed id finds its catalog model, by the first rule that names exactly one: the direct id
 * `<provider>/<listed id>`, the listed id as a model id, a model some provider serves under that id, a model whose
 * id ends in `/<listed id>`, then an alias.
 */
export function modelMatcher(providerId: string): CatalogSyncMatcher {
  return (lookups: CatalogSyncLookups) => {
    const bySuffix = new Map<string, Set<string>>();
    for (const id of lookups.modelIds) {
      const set = bySuffix.get(idSuffix(id)) ?? new Set<string>();
      set.add(id);
      bySuffix.set(idSuffix(id), set);
    }
    return (listedId) => {
      const direct = directModelId(providerId, listedId);
      if (lookups.modelIds.has(direct)) return direct;
      if (lookups.modelIds.has(listedId)) return listedId;
      for (const candidates of [lookups.byProviderModelId.get(listedId), bySuffix.get(listedId)]) {
        // Two models claiming the same listed id is a guess we will not make: linking wrongly would misattribute usage.
        if (candidates?.size === 1) return [...candidates][0];
      }
      return lookups.byAlias.get(listedId.toLowerCase());
    };
  };
}

/**
 * Asks an enabled provider for its models and adds the catalog endpoints it lacks (modelMatcher says how a listed
 * id is matched to a catalog model). Nothing is removed: ids the provider no longer lists are reported.
 */
export async function syncProviderCatalog(
  deps: { storage: { catalog: Pick<CatalogStore, 'load' | 'applySync'> }; registry: AdapterRegistry },
  providerId: string,
  options: CatalogSyncOptions = {},
): Promise<CatalogSyncOutcome> {
  const provider = (await deps.storage.catalog.load()).providers.find((row) => row.id === providerId);
  if (!provider) throw new BadRequestError(`Unknown provider ${providerId}`, 'providerId');
  const adapter = deps.registry.get(providerId);
  if (!adapter || !provider.enabled) throw new BadRequestError(`Provider ${providerId} is not enabled on this gateway`, 'providerId');
  if (!adapter.listModels) throw new BadRequestError(`Provider ${providerId} cannot list its models`, 'providerId');

  const timeout = AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  let listing: ProviderModelInfo[];
  try {
    listing = await adapter.listModels({ signal });
  } catch (error) {
    if (timeout.aborted && !options.signal?.aborted) throw new TimeoutError(`Provider ${providerId} did not list its models within ${options.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms`);
    throw error;
  }
  return { provider, ...(await deps.storage.catalog.applySync(providerId, listing, modelMatcher(providerId))) };
}

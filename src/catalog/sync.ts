import { applyCatalogSync, type SyncResult } from '../db/catalog-admin.js';
import { providersByIds } from '../db/catalog.js';
import type { Db } from '../db/client.js';
import type { ProviderRow } from '../db/schema.js';
import { BadRequestError, TimeoutError } from '../errors.js';
import type { AdapterRegistry } from '../providers/registry.js';
import type { ProviderModelInfo } from '../providers/types.js';

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

/**
 * Asks an enabled provider for its models and adds the catalog endpoints it lacks (see applyCatalogSync for how a
 * listed id is matched to a catalog model). Nothing is removed: ids the provider no longer lists are reported.
 */
export async function syncProviderCatalog(
  deps: { db: Db; registry: AdapterRegistry },
  providerId: string,
  options: CatalogSyncOptions = {},
): Promise<CatalogSyncOutcome> {
  const provider = providersByIds(deps.db, [providerId])[0];
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
  return { provider, ...applyCatalogSync(deps.db, providerId, listing) };
}

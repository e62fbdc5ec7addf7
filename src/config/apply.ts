import { ensureBootstrapKey } from '../auth/keys.js';
import { upsertModel, type CatalogAdminDeps } from '../catalog/admin.js';
import { syncKnownProviders } from '../catalog/providers.js';
import type { Config, LoadedConfigFile } from '../config.js';
import type { AuditEntry } from '../db/audit.js';
import type { ApiKeyRow } from '../db/schema.js';
import type { CatalogStore, KeyStore } from '../db/storage.js';
import type { AdapterRegistry } from '../providers/registry.js';
import type { Router } from '../routing/router.js';
import { ConfigError } from './errors.js';

/**
 * Applying the config file to a running gateway: what buildApp does once at start-up and again on every reload.
 * Providers, routing and limits were merged into Config by loadConfig; this writes the file's models (aliases,
 * endpoints, prices) into the catalog and stores its bootstrap keys, hashed.
 */
export interface ApplyDeps {
  storage: { catalog: CatalogAdminDeps['storage']['catalog'] & Pick<CatalogStore, 'syncProviders'>; keys: KeyStore };
  audit: (entry: AuditEntry) => Promise<unknown>;
}

export interface Applied {
  models: string[];
  createdKeys: ApiKeyRow[];
}

/** Writes the file's models and keys; a value the catalog refuses stops start-up (or the reload) naming the entry. */
export async function applyConfigFile(deps: ApplyDeps, file: LoadedConfigFile): Promise<Applied> {
  const applied: Applied = { models: [], createdKeys: [] };
  for (const [index, model] of file.models.entries()) {
    const exists = (await deps.storage.catalog.existingModelIds([model.id])).has(model.id);
    try {
      await upsertModel(deps, {
        id: model.id,
        name: model.name,
        // A model the catalog lacks needs a context length; 0 stands for "unknown" there.
        contextLength: model.contextLength ?? (exists ? undefined : 0),
        maxOutputTokens: model.maxOutputTokens,
        aliases: model.aliases,
        endpoints: model.endpoints,
      });
    } catch (error) {
      throw new ConfigError(`${file.path}:${file.lines.models[index] ?? 1} models[${index}] (${model.id}): ${error instanceof Error ? error.message : String(error)}`);
    }
    applied.models.push(model.id);
  }
  for (const [index, key] of file.keys.entries()) {
    try {
      const created = await ensureBootstrapKey({ keys: deps.storage.keys, audit: async (entry) => void (await deps.audit(entry)) }, key, key.secret);
      if (created) applied.createdKeys.push(created);
    } catch (error) {
      throw new ConfigError(`${file.path}:${file.lines.keys[index] ?? 1} keys[${index}] (${key.name}): ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return applied;
}

export interface ReloadDeps extends ApplyDeps {
  registry: AdapterRegistry;
  router: Router;
  /** The running config; reload replaces its providers, routing and file. */
  config: Config;
}

/** What the audit trail keeps of a config: what it declares, never a secret (recordAudit drops key fields too). */
export function configSummary(config: Config): Record<string, unknown> {
  return {
    file: config.configFile?.path ?? null,
    providers: config.providers.map((provider) => ({ id: provider.id, kind: provider.kind, baseUrl: provider.baseUrl })),
    models: (config.configFile?.models ?? []).map((model) => ({ id: model.id, aliases: model.aliases ?? [], endpoints: (model.endpoints ?? []).map((endpoint) => `${endpoint.provider}:${endpoint.providerModelId}`) })),
    keys: (config.configFile?.keys ?? []).map((key) => key.name),
    routing: { ...config.routing, breaker: undefined },
  };
}

/**
 * Makes a running gateway match a freshly loaded config: providers (re)registered or dropped, their catalog rows
 * in step, routing replaced, the file's models and keys written. Returns the config now in force. Settings read
 * once at start-up (listen address, database, limits, breakers) keep their values until a restart.
 */
export async function applyReload(deps: ReloadDeps, next: Config): Promise<Config> {
  const previous = deps.config;
  // Write the catalog first: a model the catalog refuses leaves routing and adapters as they were.
  await syncKnownProviders(deps.storage.catalog, next.providers);
  if (next.configFile) await applyConfigFile(deps, next.configFile);
  for (const provider of previous.providers) {
    if (!next.providers.some((entry) => entry.id === provider.id)) deps.registry.unregister(provider.id);
  }
  // Only what changed gets a fresh adapter: an unchanged provider keeps its adapter, including a base URL an admin
  // moved through the API for an environment provider.
  const same = (a: Config['providers'][number], b: Config['providers'][number]): boolean =>
    JSON.stringify([a.kind, a.name, a.baseUrl, a.apiKey ?? null, a.headers ?? null]) === JSON.stringify([b.kind, b.name, b.baseUrl, b.apiKey ?? null, b.headers ?? null]);
  for (const provider of next.providers) {
    const before = previous.providers.find((entry) => entry.id === provider.id);
    if (!before || !same(before, provider) || !deps.registry.has(provider.id)) deps.registry.register(provider);
  }
  deps.router.reconfigure({ ...next.routing, breaker: previous.routing.breaker });
  return { ...previous, providers: next.providers, routing: { ...next.routing, breaker: previous.routing.breaker }, configFile: next.configFile };
}

import type { Dispatcher } from 'undici';
import type { SecretBox } from '../auth/secret-box.js';
import type { ProviderRow } from '../db/schema.js';
import type { KnownProvider } from '../db/seed.js';
import type { CatalogStore } from '../db/storage.js';
import { BadRequestError, ForbiddenError } from '../errors.js';
import type { AdapterRegistry } from '../providers/registry.js';
import type { ProviderConfig, ProviderKind } from '../providers/types.js';
import { checkUpstreamUrl, type UpstreamGuard } from './upstream-guard.js';

/**
 * The one answer to "which providers exist and how is each configured": the built-in presets and how the
 * environment switches them on, the always-present local provider, the rows every known provider gets in the
 * providers table, providers added or given a key through the admin API, and keeping the adapter registry in step
 * with all of them. config.ts reads the environment through presetProviders(); buildApp and the admin API call
 * the rest. Callers check that the viewer is an admin.
 */

/** Where each built-in provider lives and how it is switched on. */
export interface ProviderPreset {
  id: string;
  kind: ProviderKind;
  name: string;
  keyVariable?: string;
  baseUrlVariable: string;
  defaultBaseUrl: string;
  /** Ollama needs no key, so setting its base URL is what enables it. */
  enabledByBaseUrl?: boolean;
}

export const PROVIDER_PRESETS: readonly ProviderPreset[] = [
  { id: 'openai', kind: 'openai', name: 'OpenAI', keyVariable: 'OPENAI_API_KEY', baseUrlVariable: 'OPENAI_BASE_URL', defaultBaseUrl: 'https://api.openai.com/v1' },
  { id: 'anthropic', kind: 'anthropic', name: 'Anthropic', keyVariable: 'ANTHROPIC_API_KEY', baseUrlVariable: 'ANTHROPIC_BASE_URL', defaultBaseUrl: 'https://api.anthropic.com' },
  { id: 'gemini', kind: 'gemini', name: 'Google Gemini', keyVariable: 'GEMINI_API_KEY', baseUrlVariable: 'GEMINI_BASE_URL', defaultBaseUrl: 'https://generativelanguage.googleapis.com' },
  { id: 'ollama', kind: 'ollama', name: 'Ollama', baseUrlVariable: 'OLLAMA_BASE_URL', defaultBaseUrl: 'http://127.0.0.1:11434', enabledByBaseUrl: true },
  { id: 'mistral', kind: 'openai_compatible', name: 'Mistral', keyVariable: 'MISTRAL_API_KEY', baseUrlVariable: 'MISTRAL_BASE_URL', defaultBaseUrl: 'https://api.mistral.ai/v1' },
  { id: 'groq', kind: 'openai_compatible', name: 'Groq', keyVariable: 'GROQ_API_KEY', baseUrlVariable: 'GROQ_BASE_URL', defaultBaseUrl: 'https://api.groq.com/openai/v1' },
  { id: 'deepseek', kind: 'openai_compatible', name: 'DeepSeek', keyVariable: 'DEEPSEEK_API_KEY', baseUrlVariable: 'DEEPSEEK_BASE_URL', defaultBaseUrl: 'https://api.deepseek.com/v1' },
  { id: 'together', kind: 'openai_compatible', name: 'Together AI', keyVariable: 'TOGETHER_API_KEY', baseUrlVariable: 'TOGETHER_BASE_URL', defaultBaseUrl: 'https://api.together.xyz/v1' },
  { id: 'openrouter', kind: 'openai_compatible', name: 'OpenRouter', keyVariable: 'OPENROUTER_API_KEY', baseUrlVariable: 'OPENROUTER_BASE_URL', defaultBaseUrl: 'https://openrouter.ai/api/v1' },
];

/** The demo provider that answers without any upstream; every gateway has it, so it is never configured or stored with a key. */
export const LOCAL_PROVIDER: ProviderConfig = { id: 'local', kind: 'local', name: 'Local demo provider', baseUrl: '' };

function presetOf(id: string): ProviderPreset | undefined {
  return PROVIDER_PRESETS.find((entry) => entry.id === id);
}

/** An id no configured or stored provider may take. */
export function isReservedProviderId(id: string): boolean {
  return id === LOCAL_PROVIDER.id;
}

/** The built-in providers the environment switches on: a preset is enabled by its key (Ollama: by its base URL). */
export function presetProviders(env: Readonly<Record<string, string | undefined>>): ProviderConfig[] {
  const providers: ProviderConfig[] = [];
  for (const preset of PROVIDER_PRESETS) {
    const apiKey = preset.keyVariable ? env[preset.keyVariable] : undefined;
    const baseUrl = env[preset.baseUrlVariable];
    const enabled = preset.enabledByBaseUrl ? baseUrl !== undefined && baseUrl !== '' : apiKey !== undefined && apiKey !== '';
    if (!enabled) continue;
    providers.push({
      id: preset.id,
      kind: preset.kind,
      name: preset.name,
      baseUrl: (baseUrl || preset.defaultBaseUrl).replace(/\/+$/, ''),
      ...(apiKey ? { apiKey } : {}),
    });
  }
  return providers;
}

/** The adapters a gateway starts with: the local provider and every provider configured in the environment. */
export function startupAdapterConfigs(configured: readonly ProviderConfig[]): ProviderConfig[] {
  return [LOCAL_PROVIDER, ...configured];
}

/** Every provider the catalog may name: the local one, every preset (enabled when configured) and every configured one. */
export function knownProviders(configured: readonly ProviderConfig[]): KnownProvider[] {
  const byId = new Map(configured.map((provider) => [provider.id, provider]));
  const known: KnownProvider[] = [{ id: LOCAL_PROVIDER.id, name: LOCAL_PROVIDER.name, kind: LOCAL_PROVIDER.kind, baseUrl: null, enabled: true }];
  for (const preset of PROVIDER_PRESETS) {
    const provider = byId.get(preset.id);
    known.push({ id: preset.id, name: preset.name, kind: preset.kind, baseUrl: provider?.baseUrl ?? preset.defaultBaseUrl, enabled: provider !== undefined });
  }
  for (const provider of configured) {
    if (!known.some((entry) => entry.id === provider.id)) known.push({ id: provider.id, name: provider.name, kind: provider.kind, baseUrl: provider.baseUrl, enabled: true });
  }
  return known;
}

/**
 * At start-up: every known provider gets its row, enabled exactly when configured, so the catalog can list
 * endpoints of providers this gateway does not run.
 */
export function syncKnownProviders(catalog: Pick<CatalogStore, 'syncProviders'>, configured: readonly ProviderConfig[]): Promise<void> {
  return catalog.syncProviders(knownProviders(configured));
}

export interface ProviderCatalogDeps {
  storage: { catalog: Pick<CatalogStore, 'load' | 'writeProvider'> };
  registry: AdapterRegistry;
  config: { providers: readonly ProviderConfig[]; configFile?: { path: string; providerIds: readonly string[] } | undefined };
  /** Seals provider keys set through the API; undefined when no master key is configured. */
  secrets?: SecretBox;
  /** Judges base URLs set through the API, and the connection pool that checks where their calls connect. */
  upstreamGuard: UpstreamGuard;
}

type Maybe<T> = T | null | undefined;

/** A provider id, whether declared in SWITCHBOARD_PROVIDERS or added through the API. */
export const PROVIDER_ID_PATTERN = /^[a-z0-9][a-z0-9_-]*$/;
export const PROVIDER_ID_RULE = 'provider ids are lowercase letters, digits, _ and -';

export interface ProviderInputValues {
  id: string;
  name?: Maybe<string>;
  kind?: Maybe<ProviderKind>;
  baseUrl?: Maybe<string>;
  enabled?: Maybe<boolean>;
  /** Write-only: a string sets the key (sealed before it is stored), null clears it, undefined leaves it. */
  apiKey?: Maybe<string>;
}

function parseBaseUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new BadRequestError('baseUrl must be an absolute http(s) URL', 'baseUrl');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new BadRequestError('baseUrl must be an absolute http(s) URL', 'baseUrl');
  // Keys go through apiKey, sealed at rest; a key in the URL would be stored and shown in plain text.
  if (url.username !== '' || url.password !== '') throw new BadRequestError('baseUrl must not carry credentials', 'baseUrl');
  return url;
}

/** What an upsert did besides writing the row, for the mutation's audit entry. */
export interface ProviderUpsert {
  row: ProviderRow;
  /** The call moved an existing provider to another base URL. */
  baseUrlChanged: boolean;
  /** A key stored for the old base URL was dropped because the call moved the provider without giving a new one. */
  storedKeyDropped: boolean;
  /**
   * For a provider configured in the environment: `withheld` when this call moved it off its configured base URL
   * (its environment key and headers are no longer sent), `restored` when it moved it back.
   */
  environmentKey?: 'withheld' | 'restored';
  /** The same, in words an admin reads in the audit trail. */
  notices: string[];
}

/** Whether calls to this provider carry a key: a stored one, or its environment key while it is at its configured base URL. */
export function providerHasApiKey(row: ProviderRow, configured: readonly ProviderConfig[]): boolean {
  if (row.apiKeyCiphertext !== null) return true;
  const entry = configured.find((provider) => provider.id === row.id);
  return entry?.apiKey !== undefined && row.baseUrl === entry.baseUrl;
}

/**
 * Creates a self-hosted OpenAI-compatible provider (vLLM, LM Studio, llama.cpp…) or edits a provider's name,
 * base URL, enabled flag or stored key, then makes the running gateway match: a new keyless OpenAI-compatible
 * provider gets an adapter at once, and a configured provider with a new base URL gets a fresh adapter pointed at it.
 *
 * A key belongs to the host it was given for. An admin key must not be able to send a provider's key to a host of
 * its choosing by moving the provider there, so moving a provider drops its stored key unless the same call gives
 * one, and a provider configured in the environment sends its environment key (and headers) only to its configured
 * base URL. Base URLs set here are checked against the upstream policy, and their calls go through the guarded pool.
 */
export async function upsertProvider(deps: ProviderCatalogDeps, input: ProviderInputValues): Promise<ProviderUpsert> {
  const id = input.id.trim();
  // The config file is the truth for what it declares: an edit here would be undone by the next reload or restart.
  const file = deps.config.configFile;
  if (file?.providerIds.includes(id)) {
    throw new ForbiddenError(`Provider ${id} is declared in the config file ${file.path}; edit it there and reload (SIGHUP) instead of through the API`);
  }
  const current = (await deps.storage.catalog.load()).providers.find((row) => row.id === id);
  const preset = presetOf(id);
  const configured = deps.config.providers.find((entry) => entry.id === id);
  let baseUrl: string | undefined;
  if (input.baseUrl !== null && input.baseUrl !== undefined) {
    const url = parseBaseUrl(input.baseUrl.trim());
    baseUrl = input.baseUrl.trim().replace(/\/+$/, '');
    // Moving a configured provider back to the base URL the operator gave it is not the admin choosing a target.
    if (configured?.baseUrl !== baseUrl) checkUpstreamUrl(url, deps.upstreamGuard.policy);
  }
  const name = input.name?.trim();
  if (name === '') throw new BadRequestError('name must not be empty', 'name');

  if (!current) {
    if (!PROVIDER_ID_PATTERN.test(id)) throw new BadRequestError(PROVIDER_ID_RULE, 'id');
    if ((input.kind ?? 'openai_compatible') !== 'openai_compatible') {
      throw new BadRequestError('Only OpenAI-compatible providers can be added through the API; the built-in kinds are configured through the environment', 'kind');
    }
    if (baseUrl === undefined) throw new BadRequestError('baseUrl is required to add a provider', 'baseUrl');
  } else {
    if (input.kind && input.kind !== current.kind) throw new BadRequestError(`The kind of provider ${id} cannot change`, 'kind');
    if (input.enabled === false && deps.registry.has(id)) {
      // Routing asks the registry, which cannot drop an adapter yet: storing "disabled" would be a flag nobody obeys.
      throw new BadRequestError(`Disabling a running provider is not supported yet; unset its configuration and restart`, 'enabled');
    }
    const keyGiven = typeof input.apiKey === 'string' || current.apiKeyCiphertext !== null;
    if (input.enabled === true && !deps.registry.has(id) && !keyGiven && (preset?.keyVariable !== undefined || isReservedProviderId(id))) {
      throw new BadRequestError(`Provider ${id} needs an API key: set apiKey (with SWITCHBOARD_MASTER_KEY configured) or ${preset?.keyVariable ?? 'its configuration'}`, 'enabled');
    }
  }

  const baseUrlChanged = current !== undefined && baseUrl !== undefined && baseUrl !== current.baseUrl;
  // Where calls will go after this write; a configured provider anywhere but its configured base URL was moved here.
  const targetBaseUrl = baseUrl ?? current?.baseUrl ?? null;
  const movedFromConfigured = configured !== undefined && targetBaseUrl !== configured.baseUrl;
  let storedKeyDropped = false;

  let apiKeyCiphertext: string | null | undefined;
  if (input.apiKey !== undefined) {
    if (isReservedProviderId(id) || (configured && !movedFromConfigured)) {
      throw new BadRequestError(`Provider ${id} takes its key from the environment (${preset?.keyVariable ?? 'SWITCHBOARD_PROVIDERS'}) while it uses its configured baseUrl`, 'apiKey');
    }
    if (input.apiKey === null) apiKeyCiphertext = null;
    else {
      if (input.apiKey.trim() === '') throw new BadRequestError('apiKey must not be empty; pass null to clear it', 'apiKey');
      if (!deps.secrets) throw new BadRequestError('Storing provider keys needs SWITCHBOARD_MASTER_KEY (32 bytes, base64)', 'apiKey');
      apiKeyCiphertext = deps.secrets.seal(input.apiKey.trim(), id);
    }
  } else if (baseUrlChanged && current.apiKeyCiphertext !== null) {
    // The key was given for the old host: sending it on to the new one would hand it to whoever runs that host.
    apiKeyCiphertext = null;
    storedKeyDropped = true;
  }

  const { row } = await deps.storage.catalog.writeProvider({
    id,
    ...(name !== undefined ? { name } : {}),
    ...(!current ? { kind: 'openai_compatible' as const } : {}),
    ...(baseUrl !== undefined ? { baseUrl } : {}),
    ...(input.enabled !== null && input.enabled !== undefined ? { enabled: input.enabled } : typeof input.apiKey === 'string' ? { enabled: true } : {}),
    ...(apiKeyCiphertext !== undefined ? { apiKeyCiphertext } : {}),
  });

  const storedKey = (): string | undefined =>
    typeof input.apiKey === 'string' ? input.apiKey.trim() : row.apiKeyCiphertext !== null && deps.secrets ? deps.secrets.open(row.apiKeyCiphertext, id) : undefined;
  const outcome: ProviderUpsert = { row, baseUrlChanged, storedKeyDropped, notices: [] };
  if (storedKeyDropped) {
    // Back at its configured base URL a configured provider uses its environment key again and takes no other.
    const next = movedFromConfigured || !configured ? `; set apiKey to give ${id} a key for ${row.baseUrl}` : '';
    outcome.notices.push(`baseUrl changed: the stored API key (given for ${current?.baseUrl ?? 'the previous baseUrl'}) was dropped${next}`);
  }

  if (configured) {
    const hasEnvironmentSecrets = configured.apiKey !== undefined || configured.headers !== undefined;
    if (baseUrlChanged && movedFromConfigured && hasEnvironmentSecrets) {
      outcome.environmentKey = 'withheld';
      outcome.notices.push(`baseUrl changed: ${id} no longer sends its environment key or headers; it has no key until apiKey is set`);
    } else if (baseUrlChanged && !movedFromConfigured && hasEnvironmentSecrets) {
      outcome.environmentKey = 'restored';
      outcome.notices.push(`baseUrl is back at the configured one: ${id} sends its environment key again`);
    }
    if (baseUrl === undefined && input.apiKey === undefined) return outcome;
    if (!movedFromConfigured) deps.registry.register({ ...configured, name: row.name });
    else {
      // The environment's key and headers stay with the host the operator configured; only a key stored for this
      // host goes along, and the connections are checked like every other base URL set through the API.
      const apiKey = storedKey();
      deps.registry.register({
        id,
        kind: configured.kind,
        name: row.name,
        baseUrl: targetBaseUrl ?? configured.baseUrl,
        ...(apiKey !== undefined ? { apiKey } : {}),
        dispatcher: deps.upstreamGuard.dispatcher,
      });
    }
    return outcome;
  }

  if (apiKeyCiphertext !== undefined || row.apiKeyCiphertext !== null) {
    const apiKey = storedKey();
    const adapterConfig = storedProviderConfig(row, apiKey, deps.upstreamGuard.dispatcher);
    // A built-in provider without its key is of no use; a self-hosted one may run keyless.
    if (adapterConfig === undefined || (apiKey === undefined && preset !== undefined)) deps.registry.unregister(id);
    else deps.registry.register(adapterConfig);
    return outcome;
  }

  if (row.enabled && row.baseUrl !== null && row.kind === 'openai_compatible' && preset === undefined) {
    deps.registry.register({ id: row.id, kind: row.kind, name: row.name, baseUrl: row.baseUrl, dispatcher: deps.upstreamGuard.dispatcher });
  }
  return outcome;
}

/**
 * The adapter configuration of a provider stored in the database; undefined when it has nowhere to send calls.
 * Its base URL came from the API (or a preset's default), so its calls go through the guarded pool.
 */
export function storedProviderConfig(row: ProviderRow, apiKey: string | undefined, dispatcher: Dispatcher): ProviderConfig | undefined {
  const preset = presetOf(row.id);
  const baseUrl = row.baseUrl ?? preset?.defaultBaseUrl;
  if (baseUrl === undefined || row.kind === 'local') return undefined;
  return { id: row.id, kind: preset?.kind ?? row.kind, name: row.name, baseUrl, ...(apiKey !== undefined ? { apiKey } : {}), dispatcher };
}

/**
 * At start-up: providers added or given a key through the API come back, their keys opened with the master key.
 * Providers configured in the environment keep the environment's settings. A stored key that cannot be opened
 * stops start-up naming the provider, rather than leaving it silently disabled.
 */
export async function registerStoredProviders(deps: ProviderCatalogDeps): Promise<string[]> {
  const { registered, toEnable } = registerProviderRows(deps, (await deps.storage.catalog.load()).providers);
  for (const id of toEnable) await deps.storage.catalog.writeProvider({ id, enabled: true });
  return registered;
}

/**
 * Keeps this instance's adapters in step with provider rows another instance changed through the API: every row
 * whose `updatedAt` differs from what this instance last saw is registered again as start-up would register it,
 * or unregistered when disabled or left without a key it needs. Providers declared in the environment or the config
 * file keep their declared settings, as at start-up. `seen` is the caller's memory of the rows it applied.
 */
export function refreshProviderAdapters(deps: Omit<ProviderCatalogDeps, 'storage'>, rows: readonly ProviderRow[], seen: Map<string, number>): string[] {
  const changed: string[] = [];
  for (const row of rows) {
    if (seen.get(row.id) === row.updatedAt) continue;
    const first = !seen.has(row.id);
    seen.set(row.id, row.updatedAt);
    if (isReservedProviderId(row.id) || deps.config.providers.some((entry) => entry.id === row.id)) continue;
    let apiKey: string | undefined;
    if (row.apiKeyCiphertext !== null && deps.secrets) {
      try {
        apiKey = deps.secrets.open(row.apiKeyCiphertext, row.id);
      } catch {
        apiKey = undefined;
      }
    }
    const config = row.enabled ? storedProviderConfig(row, apiKey, deps.upstreamGuard.dispatcher) : undefined;
    const usable = config !== undefined && (apiKey !== undefined || presetOf(row.id) === undefined);
    if (usable) {
      deps.registry.register(config);
      changed.push(row.id);
    } else if (!first && deps.registry.has(row.id)) {
      deps.registry.unregister(row.id);
      changed.push(row.id);
    }
  }
  return changed;
}

/**
 * registerStoredProviders over rows already read (PostgreSQL reads them asynchronously): registers their adapters
 * and returns the providers to store as enabled, for the caller to write.
 */
export function registerProviderRows(deps: Omit<ProviderCatalogDeps, 'storage'>, rows: readonly ProviderRow[]): { registered: string[]; toEnable: string[] } {
  const registered: string[] = [];
  const toEnable: string[] = [];
  for (const row of rows) {
    if (isReservedProviderId(row.id) || deps.config.providers.some((entry) => entry.id === row.id)) continue;
    const preset = presetOf(row.id);
    let apiKey: string | undefined;
    if (row.apiKeyCiphertext !== null) {
      if (!deps.secrets) throw new StoredSecretError(`Provider ${row.id} has a stored API key: set SWITCHBOARD_MASTER_KEY to the key it was sealed with`);
      try {
        apiKey = deps.secrets.open(row.apiKeyCiphertext, row.id);
      } catch (error) {
        throw new StoredSecretError(`Provider ${row.id}: ${error instanceof Error ? error.message : 'its stored API key cannot be opened'}`);
      }
    } else if (preset !== undefined || !row.enabled) continue;
    const config = storedProviderConfig(row, apiKey, deps.upstreamGuard.dispatcher);
    if (!config) continue;
    deps.registry.register(config);
    if (!row.enabled) toEnable.push(row.id);
    registered.push(row.id);
  }
  return { registered, toEnable };
}

/** A stored provider key that start-up cannot use. */
export class StoredSecretError extends Error {}

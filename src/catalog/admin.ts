import type { SecretBox } from '../auth/secret-box.js';
import { PROVIDER_PRESETS, type Config } from '../config.js';
import {
  CatalogConflict,
  existingModelIds,
  existingProviderIds,
  updateEndpoint,
  writeModel,
  writeProvider,
  type EndpointWrite,
  type ModelWrite,
} from '../db/catalog-admin.js';
import { listProviders, providersByIds } from '../db/catalog.js';
import type { Db } from '../db/client.js';
import type { ModelEndpointRow, ModelRow, ProviderRow } from '../db/schema.js';
import { BadRequestError } from '../errors.js';
import type { AdapterRegistry } from '../providers/registry.js';
import type { ProviderConfig, ProviderKind } from '../providers/types.js';
import { dollarsPerMillionToMicros } from '../money.js';

/**
 * The admin side of the catalog: checks what an admin sends, turns dollars into the stored micro-dollars, writes
 * through src/db/catalog-admin.ts and keeps the adapter registry in step with provider edits. Callers check that
 * the viewer is an admin.
 */

export interface CatalogAdminDeps {
  db: Db;
  registry: AdapterRegistry;
  config: Pick<Config, 'providers'>;
  /** Seals provider keys set through the API; undefined when no master key is configured. */
  secrets?: SecretBox;
}

type Maybe<T> = T | null | undefined;

const PROVIDER_ID = /^[a-z0-9][a-z0-9_-]*$/;
const NEW_MODEL_ID = /^[a-z0-9][a-z0-9-]*\/\S+$/;
const ALIAS = /^[a-z0-9][a-z0-9._:/-]*$/;
const PARAMETER = /^[a-z][a-z0-9_]*$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

function conflictsAsBadRequest<T>(write: () => T): T {
  try {
    return write();
  } catch (error) {
    if (error instanceof CatalogConflict) throw new BadRequestError(error.message);
    throw error;
  }
}

// ---- Providers ----

export interface ProviderInputValues {
  id: string;
  name?: Maybe<string>;
  kind?: Maybe<ProviderKind>;
  baseUrl?: Maybe<string>;
  enabled?: Maybe<boolean>;
  /** Write-only: a string sets the key (sealed before it is stored), null clears it, undefined leaves it. */
  apiKey?: Maybe<string>;
}

function checkBaseUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new BadRequestError('baseUrl must be an absolute http(s) URL', 'baseUrl');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new BadRequestError('baseUrl must be an absolute http(s) URL', 'baseUrl');
  // Credentials are not stored through the API yet (secrets at rest are their own piece of work).
  if (url.username !== '' || url.password !== '') throw new BadRequestError('baseUrl must not carry credentials', 'baseUrl');
  return value.replace(/\/+$/, '');
}

/**
 * Creates a self-hosted OpenAI-compatible provider (vLLM, LM Studio, llama.cpp…) or edits a provider's name,
 * base URL or enabled flag, then makes the running gateway match: a new keyless OpenAI-compatible provider gets
 * an adapter at once, and a configured provider with a new base URL gets a fresh adapter pointed at it.
 */
export function upsertProvider(deps: CatalogAdminDeps, input: ProviderInputValues): ProviderRow {
  const id = input.id.trim();
  const current = providersByIds(deps.db, [id])[0];
  const preset = PROVIDER_PRESETS.find((entry) => entry.id === id);
  const configured = deps.config.providers.find((entry) => entry.id === id);
  const baseUrl = input.baseUrl === null || input.baseUrl === undefined ? undefined : checkBaseUrl(input.baseUrl.trim());
  const name = input.name?.trim();
  if (name === '') throw new BadRequestError('name must not be empty', 'name');

  if (!current) {
    if (!PROVIDER_ID.test(id)) throw new BadRequestError('provider ids are lowercase letters, digits, _ and -', 'id');
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
    if (input.enabled === true && !deps.registry.has(id) && !keyGiven && (preset?.keyVariable !== undefined || id === 'local')) {
      throw new BadRequestError(`Provider ${id} needs an API key: set apiKey (with SWITCHBOARD_MASTER_KEY configured) or ${preset?.keyVariable ?? 'its configuration'}`, 'enabled');
    }
  }

  let apiKeyCiphertext: string | null | undefined;
  if (input.apiKey !== undefined) {
    if (configured || id === 'local') throw new BadRequestError(`Provider ${id} takes its key from the environment (${preset?.keyVariable ?? 'SWITCHBOARD_PROVIDERS'})`, 'apiKey');
    if (input.apiKey === null) apiKeyCiphertext = null;
    else {
      if (input.apiKey.trim() === '') throw new BadRequestError('apiKey must not be empty; pass null to clear it', 'apiKey');
      if (!deps.secrets) throw new BadRequestError('Storing provider keys needs SWITCHBOARD_MASTER_KEY (32 bytes, base64)', 'apiKey');
      apiKeyCiphertext = deps.secrets.seal(input.apiKey.trim(), id);
    }
  }

  const { row } = writeProvider(deps.db, {
    id,
    ...(name !== undefined ? { name } : {}),
    ...(!current ? { kind: 'openai_compatible' as const } : {}),
    ...(baseUrl !== undefined ? { baseUrl } : {}),
    ...(input.enabled !== null && input.enabled !== undefined ? { enabled: input.enabled } : typeof input.apiKey === 'string' ? { enabled: true } : {}),
    ...(apiKeyCiphertext !== undefined ? { apiKeyCiphertext } : {}),
  });

  if (!configured && (apiKeyCiphertext !== undefined || row.apiKeyCiphertext !== null)) {
    const apiKey = typeof input.apiKey === 'string' ? input.apiKey.trim() : row.apiKeyCiphertext !== null && deps.secrets ? deps.secrets.open(row.apiKeyCiphertext, id) : undefined;
    const adapterConfig = storedProviderConfig(row, apiKey);
    // A built-in provider without its key is of no use; a self-hosted one may run keyless.
    if (adapterConfig === undefined || (apiKey === undefined && preset !== undefined)) deps.registry.unregister(id);
    else deps.registry.register(adapterConfig);
    return row;
  }

  if (row.enabled && row.baseUrl !== null) {
    if (configured) {
      if (baseUrl !== undefined) deps.registry.register({ ...configured, baseUrl, name: row.name });
    } else if (row.kind === 'openai_compatible' && preset === undefined) {
      deps.registry.register({ id: row.id, kind: row.kind, name: row.name, baseUrl: row.baseUrl });
    }
  }
  return row;
}

/** The adapter configuration of a provider stored in the database; undefined when it has nowhere to send calls. */
export function storedProviderConfig(row: ProviderRow, apiKey: string | undefined): ProviderConfig | undefined {
  const preset = PROVIDER_PRESETS.find((entry) => entry.id === row.id);
  const baseUrl = row.baseUrl ?? preset?.defaultBaseUrl;
  if (baseUrl === undefined || row.kind === 'local') return undefined;
  return { id: row.id, kind: preset?.kind ?? row.kind, name: row.name, baseUrl, ...(apiKey !== undefined ? { apiKey } : {}) };
}

/**
 * At start-up: providers added or given a key through the API come back, their keys opened with the master key.
 * Providers configured in the environment keep the environment's settings. A stored key that cannot be opened
 * stops start-up naming the provider, rather than leaving it silently disabled.
 */
export function registerStoredProviders(deps: CatalogAdminDeps): string[] {
  const registered: string[] = [];
  for (const row of listProviders(deps.db)) {
    if (row.id === 'local' || deps.config.providers.some((entry) => entry.id === row.id)) continue;
    const preset = PROVIDER_PRESETS.find((entry) => entry.id === row.id);
    let apiKey: string | undefined;
    if (row.apiKeyCiphertext !== null) {
      if (!deps.secrets) throw new StoredSecretError(`Provider ${row.id} has a stored API key: set SWITCHBOARD_MASTER_KEY to the key it was sealed with`);
      try {
        apiKey = deps.secrets.open(row.apiKeyCiphertext, row.id);
      } catch (error) {
        throw new StoredSecretError(`Provider ${row.id}: ${error instanceof Error ? error.message : 'its stored API key cannot be opened'}`);
      }
    } else if (preset !== undefined || !row.enabled) continue;
    const config = storedProviderConfig(row, apiKey);
    if (!config) continue;
    deps.registry.register(config);
    if (!row.enabled) writeProvider(deps.db, { id: row.id, enabled: true });
    registered.push(row.id);
  }
  return registered;
}

/** A stored provider key that start-up cannot use. */
export class StoredSecretError extends Error {}

// ---- Models and endpoints ----

export interface EndpointInputValues {
  provider: string;
  providerModelId: string;
  promptPerMillion?: Maybe<number>;
  completionPerMillion?: Maybe<number>;
  cachedPromptPerMillion?: Maybe<number>;
  contextLength?: Maybe<number>;
  status?: Maybe<ModelEndpointRow['status']>;
}

export interface ModelInputValues {
  id: string;
  name?: Maybe<string>;
  description?: Maybe<string>;
  contextLength?: Maybe<number>;
  maxOutputTokens?: Maybe<number>;
  inputModalities?: Maybe<string[]>;
  outputModalities?: Maybe<string[]>;
  supportedParameters?: Maybe<string[]>;
  releasedAt?: Maybe<string>;
  aliases?: Maybe<string[]>;
  endpoints?: Maybe<EndpointInputValues[]>;
}

/** undefined: not given, so unchanged; null: explicitly unknown. */
function price(value: Maybe<number>, field: string): number | null | undefined {
  if (value === undefined) return undefined;
  if (value === null) return null;
  if (!Number.isFinite(value) || value < 0) throw new BadRequestError(`${field} must be a non-negative number of US dollars per million tokens`, field);
  return dollarsPerMillionToMicros(value);
}

function positiveOrNull(value: Maybe<number>, field: string): number | null | undefined {
  if (value === undefined || value === null) return value;
  if (!Number.isInteger(value) || value <= 0) throw new BadRequestError(`${field} must be a positive integer`, field);
  return value;
}

function toEndpointWrite(input: EndpointInputValues): EndpointWrite {
  const providerModelId = input.providerModelId.trim();
  if (providerModelId === '') throw new BadRequestError('providerModelId must not be empty', 'providerModelId');
  const write: EndpointWrite = { providerId: input.provider, providerModelId };
  const prompt = price(input.promptPerMillion, 'promptPerMillion');
  const completion = price(input.completionPerMillion, 'completionPerMillion');
  const cached = price(input.cachedPromptPerMillion, 'cachedPromptPerMillion');
  if (prompt !== undefined) write.promptPriceMicros = prompt;
  if (completion !== undefined) write.completionPriceMicros = completion;
  if (cached !== undefined) write.cachedPromptPriceMicros = cached;
  const contextLength = positiveOrNull(input.contextLength, 'contextLength');
  if (contextLength !== undefined) write.contextLength = contextLength;
  if (input.status) write.status = input.status;
  return write;
}

function checkProvidersExist(deps: CatalogAdminDeps, endpoints: EndpointWrite[]): void {
  const wanted = [...new Set(endpoints.map((endpoint) => endpoint.providerId))];
  const found = existingProviderIds(deps.db, wanted);
  const unknown = wanted.filter((id) => !found.has(id));
  if (unknown.length > 0) throw new BadRequestError(`Unknown provider ${unknown.join(', ')}`, 'provider');
}

function checkDate(value: string): string {
  const date = new Date(`${value}T00:00:00Z`);
  if (!DATE.test(value) || Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== value) {
    throw new BadRequestError('releasedAt must be a date written YYYY-MM-DD', 'releasedAt');
  }
  return value;
}

function toModelWrite(input: ModelInputValues, id: string): ModelWrite {
  const write: ModelWrite = { id, vendor: id.slice(0, id.indexOf('/')) };
  if (input.name !== undefined && input.name !== null) {
    if (input.name.trim() === '') throw new BadRequestError('name must not be empty', 'name');
    write.name = input.name.trim();
  }
  if (input.description !== undefined) write.description = input.description?.trim() || null;
  if (input.contextLength !== undefined && input.contextLength !== null) {
    if (!Number.isInteger(input.contextLength) || input.contextLength < 0) throw new BadRequestError('contextLength must be a non-negative integer (0: unknown)', 'contextLength');
    write.contextLength = input.contextLength;
  }
  const maxOutputTokens = positiveOrNull(input.maxOutputTokens, 'maxOutputTokens');
  if (maxOutputTokens !== undefined) write.maxOutputTokens = maxOutputTokens;
  for (const key of ['inputModalities', 'outputModalities'] as const) {
    const values = input[key];
    if (values === undefined || values === null) continue;
    if (values.length === 0) throw new BadRequestError(`${key} must name at least one modality`, key);
    write[key] = [...new Set(values)];
  }
  if (input.supportedParameters !== undefined && input.supportedParameters !== null) {
    const bad = input.supportedParameters.find((parameter) => !PARAMETER.test(parameter));
    if (bad !== undefined) throw new BadRequestError(`'${bad}' is not a request parameter name (lowercase snake_case)`, 'supportedParameters');
    write.supportedParameters = [...new Set(input.supportedParameters)];
  }
  if (input.releasedAt !== undefined) write.releasedAt = input.releasedAt === null ? null : checkDate(input.releasedAt);
  return write;
}

/**
 * Creates or edits a catalog model. Given aliases are pointed at it (an alias naming another model moves here,
 * e.g. `claude-sonnet` to the newest Sonnet); aliases it already has are kept. Given endpoints are created or
 * edited; a new endpoint without prices has unknown prices. The model and its endpoints are marked as edited by an
 * admin, so seeding at the next start-up leaves them alone.
 */
export function upsertModel(deps: CatalogAdminDeps, input: ModelInputValues): ModelRow {
  const id = input.id.trim();
  const exists = existingModelIds(deps.db, [id]).has(id);
  if (!exists && !NEW_MODEL_ID.test(id)) throw new BadRequestError('A new model id is `vendor/name`: a lowercase vendor slug, a slash and a name without spaces', 'id');
  const model = toModelWrite(input, id);

  const aliases = [...new Set((input.aliases ?? []).map((alias) => alias.trim().toLowerCase()))];
  const badAlias = aliases.find((alias) => !ALIAS.test(alias));
  if (badAlias !== undefined) throw new BadRequestError(`'${badAlias}' is not a valid alias (lowercase, no spaces)`, 'aliases');
  const shadowed = [...existingModelIds(deps.db, aliases)];
  if (shadowed.length > 0) throw new BadRequestError(`${shadowed.join(', ')} is a model id, so it cannot be an alias`, 'aliases');

  const endpoints = (input.endpoints ?? []).map(toEndpointWrite);
  checkProvidersExist(deps, endpoints);
  return conflictsAsBadRequest(() => writeModel(deps.db, model, aliases, endpoints).model);
}

/**
 * Changes one endpoint's prices, status or context length. A new price applies to requests that start from now
 * on: every recorded generation keeps the prices it was charged at.
 */
export function updateModelEndpoint(deps: CatalogAdminDeps, input: EndpointInputValues): ModelEndpointRow {
  const write = toEndpointWrite(input);
  return conflictsAsBadRequest(() => updateEndpoint(deps.db, write));
}

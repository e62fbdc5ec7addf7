import { CatalogConflict, type EndpointWrite, type ModelWrite } from '../db/catalog-admin.js';
import type { CatalogStore } from '../db/storage.js';
import type { ModelEndpointRow, ModelRow } from '../db/schema.js';
import { BadRequestError } from '../errors.js';
import { dollarsPerMillionToMicros } from '../money.js';

/**
 * The admin side of the model catalog: checks what an admin sends about models and endpoints, turns dollars into
 * the stored micro-dollars and writes through src/db/catalog-admin.ts. Providers are src/catalog/providers.ts's.
 * Callers check that the viewer is an admin.
 */

export interface CatalogAdminDeps {
  storage: { catalog: Pick<CatalogStore, 'existingModelIds' | 'existingProviderIds' | 'writeModel'> };
}

type Maybe<T> = T | null | undefined;

const NEW_MODEL_ID = /^[a-z0-9][a-z0-9-]*\/\S+$/;
const ALIAS = /^[a-z0-9][a-z0-9._:/-]*$/;
const PARAMETER = /^[a-z][a-z0-9_]*$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

async function conflictsAsBadRequest<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (error instanceof CatalogConflict) throw new BadRequestError(error.message);
    throw error;
  }
}

// ---- Models and endpoints ----

export interface EndpointInputValues {
  provider: string;
  providerModelId: string;
  promptPerMillion?: Maybe<number>;
  completionPerMillion?: Maybe<number>;
  cachedPromptPerMillion?: Maybe<number>;
  cacheWritePerMillion?: Maybe<number>;
  contextLength?: Maybe<number>;
  status?: Maybe<ModelEndpointRow['status']>;
  /** The weighted strategy's share; the config file sets it (the GraphQL input has no such field yet). */
  weight?: Maybe<number>;
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
  const cacheWrite = price(input.cacheWritePerMillion, 'cacheWritePerMillion');
  if (cacheWrite !== undefined) write.cacheWritePriceMicros = cacheWrite;
  const contextLength = positiveOrNull(input.contextLength, 'contextLength');
  if (contextLength !== undefined) write.contextLength = contextLength;
  if (input.status) write.status = input.status;
  if (input.weight !== undefined && input.weight !== null) {
    if (!Number.isInteger(input.weight) || input.weight < 0) throw new BadRequestError('weight must be a whole number, 0 or more', 'weight');
    write.weight = input.weight;
  }
  return write;
}

async function checkProvidersExist(deps: CatalogAdminDeps, endpoints: EndpointWrite[]): Promise<void> {
  const wanted = [...new Set(endpoints.map((endpoint) => endpoint.providerId))];
  const found = await deps.storage.catalog.existingProviderIds(wanted);
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
export async function upsertModel(deps: CatalogAdminDeps, input: ModelInputValues): Promise<ModelRow> {
  const id = input.id.trim();
  const exists = (await deps.storage.catalog.existingModelIds([id])).has(id);
  if (!exists && !NEW_MODEL_ID.test(id)) throw new BadRequestError('A new model id is `vendor/name`: a lowercase vendor slug, a slash and a name without spaces', 'id');
  const model = toModelWrite(input, id);

  const aliases = [...new Set((input.aliases ?? []).map((alias) => alias.trim().toLowerCase()))];
  const badAlias = aliases.find((alias) => !ALIAS.test(alias));
  if (badAlias !== undefined) throw new BadRequestError(`'${badAlias}' is not a valid alias (lowercase, no spaces)`, 'aliases');
  const shadowed = [...(await deps.storage.catalog.existingModelIds(aliases))];
  if (shadowed.length > 0) throw new BadRequestError(`${shadowed.join(', ')} is a model id, so it cannot be an alias`, 'aliases');

  const endpoints = (input.endpoints ?? []).map(toEndpointWrite);
  await checkProvidersExist(deps, endpoints);
  return conflictsAsBadRequest(async () => (await deps.storage.catalog.writeModel(model, aliases, endpoints)).model);
}

/**
 * Changes one endpoint's prices, status or context length. A new price applies to requests that start from now
 * on: every recorded generation keeps the prices it was charged at.
 */
export async function updateModelEndpoint(deps: { storage: { catalog: Pick<CatalogStore, 'updateEndpoint'> } }, input: EndpointInputValues): Promise<ModelEndpointRow> {
  const write = toEndpointWrite(input);
  try {
    return await deps.storage.catalog.updateEndpoint(write);
  } catch (error) {
    if (error instanceof CatalogConflict) throw new BadRequestError(error.message);
    throw error;
  }
}

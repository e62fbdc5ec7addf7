/**
 * The shape of Switchboard's seed model catalog (`catalog.json` beside this file).
 *
 * Field-level rules live on the object schemas; rules that relate fields or records to each other
 * (cached price vs prompt price, output limit vs context, unique ids and aliases, dates not after
 * `asOf`) live in `superRefine`s, so a single `catalogSeedSchema.parse` rejects a catalog that the
 * router or the cost calculator could not trust. Provenance and the checks applied to the data are
 * described in README.md.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** Switchboard's provider ids (see API.md). Reference data using other spellings (google, together_ai) is mapped before it lands here. */
export const SEED_PROVIDER_IDS = [
  'openai',
  'anthropic',
  'gemini',
  'mistral',
  'groq',
  'deepseek',
  'together',
  'openrouter',
  'ollama',
  'local',
] as const;

/** The GraphQL `Modality` enum. Modalities outside it (e.g. VIDEO) are dropped when the seed is built. EMBEDDING is an output only. */
export const SEED_MODALITIES = ['TEXT', 'IMAGE', 'AUDIO', 'FILE', 'EMBEDDING'] as const;

/** Request settings the completion service knows how to forward. */
export const SEED_SUPPORTED_PARAMETERS = [
  'tools',
  'tool_choice',
  'response_format',
  'json_schema',
  'temperature',
  'top_p',
  'stop',
  'seed',
  'max_tokens',
  'reasoning',
] as const;

/** A real calendar date written YYYY-MM-DD (so "2026-02-30" is refused, not silently rolled over). */
const isoDateSchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date written YYYY-MM-DD')
  .refine((value) => {
    const date = new Date(`${value}T00:00:00Z`);
    return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value;
  }, 'not a calendar date');

/** Canonical model id: lowercase `vendor/name`. */
const modelIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]*\/[a-z0-9][a-z0-9._-]*$/, 'model id must be lowercase "vendor/name"');

/** Aliases are matched exactly, so they must already be in their one lowercase spelling, without spaces. */
const aliasSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._:/-]*$/, 'alias must be lowercase with no whitespace');

const pricePerMillionSchema = z.number().finite().nonnegative();
const positiveIntSchema = z.number().int().positive();

export const seedEndpointSchema = z
  .object({
    provider: z.enum(SEED_PROVIDER_IDS),
    providerModelId: z.string().trim().min(1),
    promptPerMillion: pricePerMillionSchema,
    completionPerMillion: pricePerMillionSchema,
    /** Null when the provider publishes no cached-input price. */
    cachedPromptPerMillion: pricePerMillionSchema.nullable(),
    /** Five-minute cache writes; absent: the provider's published multiplier of the prompt price (src/db/seed.ts). */
    cacheWritePerMillion: pricePerMillionSchema.nullable().optional(),
    /** Only when this endpoint's context limit differs from the model's. */
    contextLength: positiveIntSchema.optional(),
    /** Where the price came from, including any correction applied to it. */
    priceSource: z.string().trim().min(1),
    /** The date the price was read or took effect; never after the catalog's `asOf`. */
    priceDate: isoDateSchema,
  })
  .strict()
  .superRefine((endpoint, ctx) => {
    if (endpoint.cachedPromptPerMillion !== null && endpoint.cachedPromptPerMillion > endpoint.promptPerMillion) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['cachedPromptPerMillion'],
        message: `cached prompt price ${endpoint.cachedPromptPerMillion} is above the prompt price ${endpoint.promptPerMillion}`,
      });
    }
  });

export const seedModelSchema = z
  .object({
    id: modelIdSchema,
    name: z.string().trim().min(1),
    vendor: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'vendor must be a lowercase slug'),
    description: z.string().trim().min(1).optional(),
    contextLength: positiveIntSchema,
    maxOutputTokens: positiveIntSchema.nullable(),
    inputModalities: z.array(z.enum(SEED_MODALITIES)).min(1),
    outputModalities: z.array(z.enum(SEED_MODALITIES)).min(1),
    supportedParameters: z.array(z.enum(SEED_SUPPORTED_PARAMETERS)),
    aliases: z.array(aliasSchema),
    releasedAt: isoDateSchema.optional(),
    endpoints: z.array(seedEndpointSchema).min(1),
  })
  .strict()
  .superRefine((model, ctx) => {
    const vendorOfId = model.id.slice(0, model.id.indexOf('/'));
    if (vendorOfId !== model.vendor) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['vendor'], message: `vendor "${model.vendor}" does not match id "${model.id}"` });
    }
    if (model.maxOutputTokens !== null && model.maxOutputTokens > model.contextLength) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['maxOutputTokens'],
        message: `maxOutputTokens ${model.maxOutputTokens} exceeds contextLength ${model.contextLength}`,
      });
    }
    if (model.inputModalities.includes('EMBEDDING')) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['inputModalities'], message: 'EMBEDDING is an output modality only' });
    }
    if (model.supportedParameters.includes('json_schema') && !model.supportedParameters.includes('response_format')) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['supportedParameters'], message: 'json_schema requires response_format' });
    }
    if (model.supportedParameters.includes('tool_choice') && !model.supportedParameters.includes('tools')) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['supportedParameters'], message: 'tool_choice requires tools' });
    }
    for (const key of ['inputModalities', 'outputModalities', 'supportedParameters', 'aliases'] as const) {
      const values: readonly string[] = model[key];
      if (new Set(values).size !== values.length) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: [key], message: `${key} has duplicates` });
      }
    }
    const providers = model.endpoints.map((endpoint) => endpoint.provider);
    if (new Set(providers).size !== providers.length) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['endpoints'], message: 'more than one endpoint for the same provider' });
    }
  });

export const catalogSeedSchema = z
  .object({
    asOf: isoDateSchema,
    sources: z.array(z.string().trim().min(1)).min(1),
    models: z.array(seedModelSchema).min(1),
  })
  .strict()
  .superRefine((catalog, ctx) => {
    const ids = new Set<string>();
    catalog.models.forEach((model, index) => {
      if (ids.has(model.id)) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['models', index, 'id'], message: `duplicate model id "${model.id}"` });
      }
      ids.add(model.id);
    });

    // The seeder keys endpoints by `${provider}:${providerModelId}`, so that pair must be unique catalog-wide.
    const endpointOwner = new Map<string, string>();
    catalog.models.forEach((model, index) => {
      model.endpoints.forEach((endpoint, endpointIndex) => {
        const key = `${endpoint.provider}:${endpoint.providerModelId}`;
        const owner = endpointOwner.get(key);
        if (owner !== undefined) {
          ctx.addIssue({
            code: z.ZodIssueCode.custom,
            path: ['models', index, 'endpoints', endpointIndex, 'providerModelId'],
            message: `endpoint ${key} is listed under both ${owner} and ${model.id}`,
          });
        }
        endpointOwner.set(key, model.id);
      });
    });

    const aliasOwner = new Map<string, string>();
    catalog.models.forEach((model, index) => {
      model.aliases.forEach((alias, aliasIndex) => {
        const path = ['models', index, 'aliases', aliasIndex];
        if (ids.has(alias)) {
          ctx.addIssue({ code: z.ZodIssueCode.custom, path, message: `alias "${alias}" of ${model.id} is another model's id` });
        }
        const owner = aliasOwner.get(alias);
        if (owner !== undefined && owner !== model.id) {
          ctx.addIssue({ code: z.ZodIssueCode.custom, path, message: `alias "${alias}" is on both ${owner} and ${model.id}` });
        }
        aliasOwner.set(alias, model.id);
      });

      // ISO dates compare correctly as strings.
      if (model.releasedAt !== undefined && model.releasedAt > catalog.asOf) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ['models', index, 'releasedAt'],
          message: `releasedAt ${model.releasedAt} is after asOf ${catalog.asOf}`,
        });
      }
      model.endpoints.forEach((endpoint, endpointIndex) => {
        if (endpoint.priceDate > catalog.asOf) {
          ctx.addIssue({
            code: z.ZodIssueCode.custom,
            path: ['models', index, 'endpoints', endpointIndex, 'priceDate'],
            message: `priceDate ${endpoint.priceDate} is after asOf ${catalog.asOf}`,
          });
        }
      });
    });
  });

export type CatalogSeed = z.infer<typeof catalogSeedSchema>;
export type SeedModel = z.infer<typeof seedModelSchema>;
export type SeedEndpoint = z.infer<typeof seedEndpointSchema>;

/** Where the shipped seed lives, next to this module. */
export const catalogSeedUrl = new URL('./catalog.json', import.meta.url);

/** Validates already-parsed JSON; throws a ZodError naming every problem. */
export function parseCatalogSeed(data: unknown): CatalogSeed {
  return catalogSeedSchema.parse(data);
}

/** Reads and validates a catalog file (the shipped seed by default). Does nothing until called. */
export function loadCatalogSeed(file: string | URL = catalogSeedUrl): CatalogSeed {
  const data: unknown = JSON.parse(readFileSync(file, 'utf8'));
  return parseCatalogSeed(data);
}

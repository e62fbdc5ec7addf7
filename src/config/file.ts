import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { isMap, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { ConfigError } from './errors.js';
import { PROVIDER_ID_PATTERN, PROVIDER_ID_RULE } from '../catalog/providers.js';
import { budgetPeriods, scopes } from '../db/schema.js';
import type { ProviderKind } from '../providers/types.js';
import { routingStrategies } from '../routing/config.js';

/**
 * The config file (`switchboard.yaml`): providers, models with aliases and endpoints, routing, default limits and
 * bootstrap keys, kept in version control the way LiteLLM users keep theirs. This module only reads and validates
 * it; src/config.ts merges it under the environment (an environment variable wins for the same setting) and buildApp
 * applies it. Every problem names the file, the line and column, and the field, so an operator can go straight there.
 */

/** ProviderKind as the GraphQL enum spells it, so the file and the API use one vocabulary. */
const PROVIDER_KINDS = { OPENAI: 'openai', ANTHROPIC: 'anthropic', GEMINI: 'gemini', OLLAMA: 'ollama', OPENAI_COMPATIBLE: 'openai_compatible' } as const satisfies Record<string, ProviderKind>;
type ProviderKindName = keyof typeof PROVIDER_KINDS;
const providerKindNames = Object.keys(PROVIDER_KINDS) as [ProviderKindName, ...ProviderKindName[]];

const positiveInt = z.number().int().min(1);
const nonNegativeInt = z.number().int().min(0);
const hedgeDelay = z.union([z.literal('p95'), z.number().int().min(0).max(600_000)]);
const price = z.number().min(0);

const providerSchema = z
  .object({
    id: z.string().regex(PROVIDER_ID_PATTERN, PROVIDER_ID_RULE),
    // LOCAL is left out on purpose: the local provider is built in and cannot be declared twice.
    kind: z.enum(providerKindNames, { errorMap: () => ({ message: `kind must be one of ${providerKindNames.join(', ')}` }) }),
    name: z.string().min(1).optional(),
    baseUrl: z.string().url(),
    apiKey: z.string().min(1).optional(),
    headers: z.record(z.string()).optional(),
  })
  .strict();

const endpointSchema = z
  .object({
    provider: z.string().min(1),
    providerModelId: z.string().min(1),
    promptPerMillion: price.optional(),
    completionPerMillion: price.optional(),
    cachedPromptPerMillion: price.optional(),
    cacheWritePerMillion: price.optional(),
    contextLength: positiveInt.optional(),
    // The weighted strategy's share of this model's traffic (0: only when every other endpoint failed).
    weight: nonNegativeInt.optional(),
  })
  .strict();

const modelSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]*\/\S+$/, 'a model id is `vendor/name`'),
    name: z.string().min(1).optional(),
    contextLength: nonNegativeInt.optional(),
    maxOutputTokens: positiveInt.optional(),
    aliases: z.array(z.string().regex(/^[a-z0-9][a-z0-9._:/-]*$/, 'an alias is lowercase, without spaces')).optional(),
    endpoints: z.array(endpointSchema).optional(),
  })
  .strict();

const modelRoutingSchema = z
  .object({
    strategy: z.enum(routingStrategies).optional(),
    hedgeDelayMs: hedgeDelay.optional(),
    fallbacks: z.array(z.string().min(1)).optional(),
    attemptTimeoutMs: positiveInt.optional(),
    requestDeadlineMs: positiveInt.optional(),
    maxRetries: z.number().int().min(0).max(10).optional(),
  })
  .strict();

const routingSchema = z
  .object({
    strategy: z.enum(routingStrategies).optional(),
    hedgeDelayMs: hedgeDelay.optional(),
    attemptTimeoutMs: positiveInt.optional(),
    requestDeadlineMs: positiveInt.optional(),
    streamIdleTimeoutMs: positiveInt.optional(),
    maxRetries: z.number().int().min(0).max(10).optional(),
    retryBaseMs: nonNegativeInt.optional(),
    maxRetryAfterMs: nonNegativeInt.optional(),
    breaker: z.object({ failures: positiveInt.optional(), minFailingRequests: positiveInt.optional(), cooldownMs: nonNegativeInt.optional() }).strict().optional(),
    models: z.record(modelRoutingSchema).optional(),
  })
  .strict();

/**
 * Default limits: each key stands for the environment variable beside it, which wins when both are set. Kept as a
 * table so the file and the environment cannot drift apart in meaning.
 */
export const LIMIT_VARIABLES = {
  maxBodyBytes: 'SWITCHBOARD_MAX_BODY_BYTES',
  maxUpstreamBodyBytes: 'SWITCHBOARD_MAX_UPSTREAM_BODY_BYTES',
  corsOrigins: 'SWITCHBOARD_CORS_ORIGINS',
  introspection: 'SWITCHBOARD_INTROSPECTION',
  graphqlMaxDepth: 'SWITCHBOARD_GRAPHQL_MAX_DEPTH',
  graphqlMaxCost: 'SWITCHBOARD_GRAPHQL_MAX_COST',
  graphqlMaxAliases: 'SWITCHBOARD_GRAPHQL_MAX_ALIASES',
  graphqlMaxDirectives: 'SWITCHBOARD_GRAPHQL_MAX_DIRECTIVES',
  graphqlMaxTokens: 'SWITCHBOARD_GRAPHQL_MAX_TOKENS',
  headersTimeoutMs: 'SWITCHBOARD_HEADERS_TIMEOUT_MS',
  requestTimeoutMs: 'SWITCHBOARD_REQUEST_TIMEOUT_MS',
  keepAliveTimeoutMs: 'SWITCHBOARD_KEEP_ALIVE_TIMEOUT_MS',
  wsMaxSubscriptions: 'SWITCHBOARD_WS_MAX_SUBSCRIPTIONS',
  wsMaxConnectionsPerKey: 'SWITCHBOARD_WS_MAX_CONNECTIONS_PER_KEY',
} as const;

const limitsSchema = z
  .object({
    maxBodyBytes: positiveInt.optional(),
    maxUpstreamBodyBytes: positiveInt.optional(),
    corsOrigins: z.array(z.string().min(1)).optional(),
    introspection: z.boolean().optional(),
    graphqlMaxDepth: positiveInt.optional(),
    graphqlMaxCost: positiveInt.optional(),
    graphqlMaxAliases: nonNegativeInt.optional(),
    graphqlMaxDirectives: nonNegativeInt.optional(),
    graphqlMaxTokens: positiveInt.optional(),
    headersTimeoutMs: positiveInt.optional(),
    requestTimeoutMs: positiveInt.optional(),
    keepAliveTimeoutMs: positiveInt.optional(),
    wsMaxSubscriptions: positiveInt.optional(),
    wsMaxConnectionsPerKey: positiveInt.optional(),
  })
  .strict();

const keySchema = z
  .object({
    name: z.string().min(1),
    // A bootstrap key's secret comes from the environment (${VAR}); only its hash is stored, like any other key.
    secret: z.string().min(32, 'secret must be at least 32 characters (use ${VAR} to read it from the environment)'),
    scopes: z.array(z.enum(scopes)).min(1),
    allowedModels: z.array(z.string().min(1)).optional(),
    rateLimit: z.object({ requestsPerMinute: positiveInt.optional(), tokensPerMinute: positiveInt.optional(), concurrentStreams: positiveInt.optional() }).strict().optional(),
    budget: z.object({ limitUsd: z.number().min(0), period: z.enum(budgetPeriods).optional() }).strict().optional(),
    /** The response cache TTL of the key's requests that set none (checked against its bound by the key service). */
    cacheTtlSeconds: z.number().int().min(0).optional(),
  })
  .strict();

export const configFileSchema = z
  .object({
    providers: z.array(providerSchema).default([]),
    models: z.array(modelSchema).default([]),
    routing: routingSchema.default({}),
    limits: limitsSchema.default({}),
    keys: z.array(keySchema).default([]),
  })
  .strict()
  .superRefine((file, context) => {
    const seen = new Set<string>();
    file.providers.forEach((provider, index) => {
      if (seen.has(provider.id)) context.addIssue({ code: z.ZodIssueCode.custom, path: ['providers', index, 'id'], message: `provider id '${provider.id}' is declared twice` });
      seen.add(provider.id);
    });
    const secrets = new Set<string>();
    file.keys.forEach((key, index) => {
      if (secrets.has(key.secret)) context.addIssue({ code: z.ZodIssueCode.custom, path: ['keys', index, 'secret'], message: 'two keys share one secret' });
      secrets.add(key.secret);
    });
  });

export type ConfigFile = z.infer<typeof configFileSchema>;
export type ConfigFileProvider = ConfigFile['providers'][number];
export type ConfigFileModel = ConfigFile['models'][number];
export type ConfigFileKey = ConfigFile['keys'][number];

export function providerKindOf(name: ProviderKindName): ProviderKind {
  return PROVIDER_KINDS[name];
}

/** One problem in the file, located for a human: `switchboard.yaml:12:7 providers[0].kind: …`. */
export interface ConfigFileProblem {
  file: string;
  line: number;
  column: number;
  field: string;
  message: string;
}

export function formatProblem(problem: ConfigFileProblem): string {
  return `${problem.file}:${problem.line}:${problem.column} ${problem.field ? `${problem.field}: ` : ''}${problem.message}`;
}

/** A file that cannot be used; the message lists every problem, one a line. */
export class ConfigFileError extends ConfigError {
  constructor(readonly problems: ConfigFileProblem[]) {
    super(`Invalid config file:\n${problems.map(formatProblem).join('\n')}`);
  }
}

type PathSegment = string | number;

function fieldName(path: readonly PathSegment[]): string {
  return path.reduce<string>((name, segment) => (typeof segment === 'number' ? `${name}[${segment}]` : name === '' ? segment : `${name}.${segment}`), '');
}

/**
 * Where a path points in the document: the node itself, or the nearest ancestor that exists (a missing required
 * field is reported at the mapping that lacks it).
 */
function locate(document: Document, lineCounter: LineCounter, path: readonly PathSegment[]): { line: number; column: number } {
  for (let length = path.length; length >= 0; length--) {
    const node: unknown = length === 0 ? document.contents : document.getIn(path.slice(0, length), true);
    if (node && typeof node === 'object' && 'range' in node) {
      const range = (node as { range?: [number, number, number] | null }).range;
      if (range) {
        const position = lineCounter.linePos(range[0]);
        return { line: position.line, column: position.col };
      }
    }
  }
  return { line: 1, column: 1 };
}

const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Replaces `${VAR}` in every string value; each variable that is unset or empty becomes a problem at its field. */
function substitute(value: unknown, env: Readonly<Record<string, string | undefined>>, path: PathSegment[], missing: Array<{ path: PathSegment[]; variable: string }>): unknown {
  if (typeof value === 'string') {
    return value.replace(REFERENCE, (_match, variable: string) => {
      const resolved = env[variable];
      if (resolved === undefined || resolved === '') {
        missing.push({ path, variable });
        return '';
      }
      return resolved;
    });
  }
  if (Array.isArray(value)) return value.map((item, index) => substitute(item, env, [...path, index], missing));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, substitute(item, env, [...path, key], missing)]));
  }
  return value;
}

/** Lines of each `models` and `keys` entry, so a refusal found later (by the catalog, at apply time) can name its line too. */
export interface EntryLines {
  models: number[];
  keys: number[];
}

export type ConfigFileResult = { ok: true; file: ConfigFile; lines: EntryLines } | { ok: false; problems: ConfigFileProblem[] };

/** Parses and validates the text of a config file; `file` only names it in problems. */
export function parseConfigFile(text: string, file: string, env: Readonly<Record<string, string | undefined>>): ConfigFileResult {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (document.errors.length > 0) {
    return {
      ok: false,
      problems: document.errors.map((error) => {
        const position = lineCounter.linePos(error.pos[0]);
        return { file, line: position.line, column: position.col, field: '', message: `YAML: ${error.message.split('\n')[0] ?? error.message}` };
      }),
    };
  }
  // An empty file is a valid file that declares nothing.
  const contents = document.contents;
  const raw: unknown = contents === null ? {} : document.toJS();
  if (contents !== null && !isMap(contents)) {
    const at = locate(document, lineCounter, []);
    return { ok: false, problems: [{ file, ...at, field: '', message: `the file must be a mapping (providers:, models:, routing:, limits:, keys:), not ${isSeq(contents) ? 'a list' : 'a scalar'}` }] };
  }
  const missing: Array<{ path: PathSegment[]; variable: string }> = [];
  const substituted = substitute(raw, env, [], missing);
  const problems: ConfigFileProblem[] = missing.map(({ path, variable }) => ({
    file,
    ...locate(document, lineCounter, path),
    field: fieldName(path),
    message: `environment variable ${variable} is not set`,
  }));
  const parsed = configFileSchema.safeParse(substituted);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      // A field emptied by a missing variable is already reported as such.
      if (missing.some(({ path }) => fieldName(path) === fieldName(issue.path))) continue;
      problems.push({ file, ...locate(document, lineCounter, issue.path), field: fieldName(issue.path), message: issue.message });
    }
  }
  if (problems.length > 0 || !parsed.success) return { ok: false, problems };
  const lines = (section: 'models' | 'keys'): number[] => parsed.data[section].map((_entry, index) => locate(document, lineCounter, [section, index]).line);
  return { ok: true, file: parsed.data, lines: { models: lines('models'), keys: lines('keys') } };
}

/**
 * The config file's path: SWITCHBOARD_CONFIG when set (a missing file is then an error), else ./switchboard.yaml
 * when it exists, else none.
 */
export function configFilePath(env: Readonly<Record<string, string | undefined>>, cwd: string = process.cwd()): string | undefined {
  const explicit = env['SWITCHBOARD_CONFIG'];
  if (explicit !== undefined && explicit !== '') return resolve(cwd, explicit);
  const fallback = resolve(cwd, 'switchboard.yaml');
  return existsSync(fallback) ? fallback : undefined;
}

/** Reads, parses and validates a config file; throws ConfigFileError naming file, line and field. */
export function readConfigFile(path: string, env: Readonly<Record<string, string | undefined>>): { file: ConfigFile; lines: EntryLines } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const reason = error instanceof Error && 'code' in error && error.code === 'ENOENT' ? 'file not found' : error instanceof Error ? error.message : 'cannot be read';
    throw new ConfigFileError([{ file: path, line: 1, column: 1, field: '', message: reason }]);
  }
  const result = parseConfigFile(text, path, env);
  if (!result.ok) throw new ConfigFileError(result.problems);
  return { file: result.file, lines: result.lines };
}

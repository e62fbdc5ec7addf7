import { z } from 'zod';
import { ConfigError } from './config/errors.js';
import { parseMasterKey } from './auth/secret-box.js';
import { isReservedProviderId, presetProviders, PROVIDER_ID_PATTERN, PROVIDER_ID_RULE, PROVIDER_PRESETS } from './catalog/providers.js';
import { configFilePath, LIMIT_VARIABLES, providerKindOf, readConfigFile, type ConfigFile, type ConfigFileKey, type ConfigFileModel, type EntryLines } from './config/file.js';
import type { ProviderConfig } from './providers/types.js';
import { routingEnvSchema, toRoutingConfig, type RoutingConfig } from './routing/config.js';
import { limitsEnvSchema, toLimitsConfig, type LimitsConfig } from './http/limits.js';
import { isLoopbackAddress } from './http/loopback.js';

/** A self-hosted OpenAI-compatible server declared in SWITCHBOARD_PROVIDERS (vLLM, LM Studio, llama.cpp…). */
const customProviderSchema = z.object({
  id: z.string().regex(PROVIDER_ID_PATTERN, PROVIDER_ID_RULE),
  name: z.string().optional(),
  baseUrl: z.string().url(),
  apiKey: z.string().optional(),
  headers: z.record(z.string()).optional(),
});

export { ConfigError };
export { ConfigFileError } from './config/file.js';

const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATABASE_URL: z.string().default('file:./switchboard.db'),
  SWITCHBOARD_ADMIN_KEY: z.string().min(1).optional(),
  SWITCHBOARD_PROVIDERS: z.string().optional(),
  SWITCHBOARD_LOCAL_DELAY_MS: z.coerce.number().int().min(0).max(10_000).default(30),
  SWITCHBOARD_SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(10_000),
  SWITCHBOARD_GRAPHIQL: z.enum(['true', 'false']).default('true'),
  SWITCHBOARD_MASTER_KEY: z.string().min(1).optional(),
  SWITCHBOARD_MASTER_KEY_PREVIOUS: z.string().min(1).optional(),
  SWITCHBOARD_ALLOW_PRIVATE_UPSTREAMS: z.enum(['true', 'false']).default('false'),
  SWITCHBOARD_RETENTION_DAYS: z.string().optional(),
  SWITCHBOARD_STORE_CONTENT: z.enum(['true', 'false']).default('false'),
  SWITCHBOARD_CACHE_SCOPE: z.enum(['key', 'global']).default('key'),
  SWITCHBOARD_CACHE_MAX_ENTRIES: z.coerce.number().int().min(1).default(10_000),
  SWITCHBOARD_CACHE_MAX_BYTES: z.coerce.number().int().min(1).default(64 * 1024 * 1024),
  SWITCHBOARD_CACHE_REDIS_PREFIX: z.string().min(1).default('switchboard:cache:'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // The standard OpenTelemetry variables; an empty endpoint counts as unset, as the SDKs treat it.
  OTEL_EXPORTER_OTLP_ENDPOINT: z.union([z.literal(''), z.string().url()]).optional(),
  OTEL_SERVICE_NAME: z.string().optional(),
  // Shared state between gateway instances (src/coordination/); empty counts as unset.
  REDIS_URL: z.union([z.literal(''), z.string().regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')]).optional(),
  SWITCHBOARD_REDIS_PREFIX: z.string().min(1).default('switchboard:'),
  SWITCHBOARD_REDIS_FAILURE: z.enum(['open', 'closed']).default('open'),
}).merge(routingEnvSchema).merge(limitsEnvSchema);

export interface Config {
  port: number;
  host: string;
  /** Path of the SQLite file, or ':memory:'; unused when `databaseUrl` names PostgreSQL. */
  databasePath: string;
  /** A `postgres://` URL from DATABASE_URL: the ledger, keys, catalog and audit trail live in PostgreSQL. */
  databaseUrl: string | undefined;
  adminKey: string | undefined;
  providers: ProviderConfig[];
  /** Delay between the local provider's streamed words, so a demo stream is visible. */
  localDelayMs: number;
  shutdownGraceMs: number;
  graphiql: boolean;
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  /** Strategies, retries, timeouts, hedging and circuit breakers (src/routing/config.ts). */
  routing: RoutingConfig;
  /** Body sizes, GraphQL document limits, timeouts, WebSocket fan-out, CORS, introspection (src/http/limits.ts). */
  limits: LimitsConfig;
  /** Seals provider keys set through the API; without it such keys are refused. */
  masterKey: Buffer | undefined;
  /** Older master keys that still open stored keys while rotating. */
  previousMasterKeys: Buffer[];
  /**
   * Base URLs set through the admin API may reach private networks (10/8, 172.16/12, 192.168/16, CGNAT, fc00::/7);
   * link-local and metadata addresses stay refused either way (src/catalog/upstream-guard.ts).
   */
  allowPrivateUpstreams: boolean;
  /** Generations older than this many days are deleted; null keeps them forever. */
  retentionDays: number | null;
  /**
   * SWITCHBOARD_STORE_CONTENT: keep each generation's messages and answer with it (under the same retention), so
   * `previous_response_id` and `GET /v1/responses/{id}` can work. Off by default: prompts often hold what a ledger
   * should not.
   */
  storeContent: boolean;
  /** What the config file declared (src/config/file.ts); undefined when there is none. */
  configFile: LoadedConfigFile | undefined;
  /** OpenTelemetry traces (src/telemetry/tracing.ts): exported over OTLP HTTP only when an endpoint is set. */
  tracing: { otlpEndpoint: string | undefined; serviceName: string };
  /** The response cache (src/cache/): who may hit whose answers, its size bound, its Redis key prefix. */
  cache: { scope: 'key' | 'global'; maxEntries: number; maxBytes: number; redisPrefix: string };
  /**
   * REDIS_URL: rate limits, stream caps, budget reservations, breakers, usageEvents and cache invalidation shared
   * between instances (src/coordination/). Undefined: everything stays in this process, as for one instance.
   */
  redis: RedisConfig | undefined;
}

export interface RedisConfig {
  url: string;
  /** Every key and channel starts with it (SWITCHBOARD_REDIS_PREFIX), so deployments and tests can share a server. */
  prefix: string;
  /**
   * SWITCHBOARD_REDIS_FAILURE: with Redis unreachable, `open` falls back to per-instance rate limits and stream
   * caps, `closed` refuses requests that have any. Budgets refuse either way.
   */
  failureMode: 'open' | 'closed';
}

/** The parts of the config file buildApp applies itself; routing, limits and providers are already merged above. */
export interface LoadedConfigFile {
  path: string;
  /** Providers the file owns: the admin API refuses to edit them (src/catalog/providers.ts). */
  providerIds: string[];
  models: ConfigFileModel[];
  keys: ConfigFileKey[];
  /** Where each model and key entry starts, for errors found when they are applied. */
  lines: EntryLines;
}

export interface LoadConfigOptions {
  /** The config file to read; by default SWITCHBOARD_CONFIG, else ./switchboard.yaml when present. null: none. */
  configPath?: string | null;
}

/**
 * The file's routing defaults and limits, spelled as the environment variables they stand for, so the environment
 * can be laid over them and both go through one validation: a variable that is set wins over the file.
 */
function fileAsEnvironment(file: ConfigFile): Record<string, string> {
  const values: Record<string, string> = {};
  const set = (name: string, value: string | number | boolean | undefined): void => {
    if (value !== undefined) values[name] = String(value);
  };
  const routing = file.routing;
  set('SWITCHBOARD_ROUTING_STRATEGY', routing.strategy);
  set('SWITCHBOARD_HEDGE_DELAY_MS', routing.hedgeDelayMs);
  set('SWITCHBOARD_ATTEMPT_TIMEOUT_MS', routing.attemptTimeoutMs);
  set('SWITCHBOARD_REQUEST_DEADLINE_MS', routing.requestDeadlineMs);
  set('SWITCHBOARD_STREAM_IDLE_TIMEOUT_MS', routing.streamIdleTimeoutMs);
  set('SWITCHBOARD_MAX_RETRIES', routing.maxRetries);
  set('SWITCHBOARD_RETRY_BASE_MS', routing.retryBaseMs);
  set('SWITCHBOARD_RETRY_MAX_AFTER_MS', routing.maxRetryAfterMs);
  set('SWITCHBOARD_BREAKER_FAILURES', routing.breaker?.failures);
  set('SWITCHBOARD_BREAKER_MIN_FAILING_REQUESTS', routing.breaker?.minFailingRequests);
  set('SWITCHBOARD_BREAKER_COOLDOWN_MS', routing.breaker?.cooldownMs);
  for (const [key, variable] of Object.entries(LIMIT_VARIABLES) as Array<[keyof typeof LIMIT_VARIABLES, string]>) {
    const value = file.limits[key];
    set(variable, Array.isArray(value) ? value.join(',') : value);
  }
  return values;
}

/**
 * The file's providers as adapter configs. A file provider with a built-in id (e.g. `openai`) takes that preset's
 * environment variables over its own values, setting by setting, as everywhere else.
 */
function fileProviders(file: ConfigFile, env: NodeJS.ProcessEnv): ProviderConfig[] {
  return file.providers.map((provider, index) => {
    const kind = providerKindOf(provider.kind);
    const preset = PROVIDER_PRESETS.find((entry) => entry.id === provider.id);
    if (preset && preset.kind !== kind) {
      throw new ConfigError(`config file: providers[${index}].kind: provider '${provider.id}' is built in with kind ${preset.kind.toUpperCase()}`);
    }
    const envKey = preset?.keyVariable ? env[preset.keyVariable] : undefined;
    const envBaseUrl = preset ? env[preset.baseUrlVariable] : undefined;
    const apiKey = envKey || provider.apiKey;
    return {
      id: provider.id,
      kind,
      name: provider.name ?? preset?.name ?? provider.id,
      baseUrl: (envBaseUrl || provider.baseUrl).replace(/\/+$/, ''),
      ...(apiKey ? { apiKey } : {}),
      ...(provider.headers ? { headers: provider.headers } : {}),
    };
  });
}


export function isPostgresUrl(url: string): boolean {
  return url.startsWith('postgres://') || url.startsWith('postgresql://');
}

function databasePath(url: string): string {
  if (url === ':memory:' || url === 'file::memory:') return ':memory:';
  if (url.startsWith('file:')) return url.slice('file:'.length);
  if (isPostgresUrl(url)) return '';
  return url;
}

/** Reads and validates the environment once; every other module takes the typed Config. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, options: LoadConfigOptions = {}): Config {
  const path = options.configPath === undefined ? configFilePath(env) : (options.configPath ?? undefined);
  // ConfigFileError (a ConfigError) names the file, line and field of every problem.
  const read = path !== undefined ? readConfigFile(path, env) : undefined;
  const file = read?.file;
  const parsed = envSchema.safeParse(file ? { ...fileAsEnvironment(file), ...env } : env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new ConfigError(`Invalid configuration: ${problems}`);
  }
  const values = parsed.data;

  const declaredInFile = file ? fileProviders(file, env) : [];
  const providers: ProviderConfig[] = [...presetProviders(env).filter((preset) => !declaredInFile.some((entry) => entry.id === preset.id)), ...declaredInFile];
  if (values.SWITCHBOARD_PROVIDERS) {
    let declared: unknown;
    try {
      declared = JSON.parse(values.SWITCHBOARD_PROVIDERS);
    } catch {
      throw new ConfigError('SWITCHBOARD_PROVIDERS must be a JSON array of {id, baseUrl, apiKey?, name?, headers?}');
    }
    const custom = z.array(customProviderSchema).safeParse(declared);
    if (!custom.success) throw new ConfigError(`SWITCHBOARD_PROVIDERS: ${custom.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
    for (const provider of custom.data) {
      // The environment beats the file: a provider the file declares too is taken from SWITCHBOARD_PROVIDERS.
      const inFile = declaredInFile.findIndex((entry) => entry.id === provider.id);
      if (inFile >= 0) {
        providers.splice(providers.indexOf(declaredInFile[inFile] as ProviderConfig), 1);
        declaredInFile.splice(inFile, 1);
      }
      if (isReservedProviderId(provider.id) || providers.some((existing) => existing.id === provider.id)) {
        throw new ConfigError(`SWITCHBOARD_PROVIDERS: provider id '${provider.id}' is already taken`);
      }
      providers.push({
        id: provider.id,
        kind: 'openai_compatible',
        name: provider.name ?? provider.id,
        baseUrl: provider.baseUrl.replace(/\/+$/, ''),
        ...(provider.apiKey ? { apiKey: provider.apiKey } : {}),
        ...(provider.headers ? { headers: provider.headers } : {}),
      });
    }
  }

  const masterKey = (name: string, text: string | undefined): Buffer | undefined => {
    if (text === undefined) return undefined;
    try {
      return parseMasterKey(text);
    } catch (error) {
      throw new ConfigError(`${name} ${error instanceof Error ? error.message : 'is invalid'}`);
    }
  };
  const currentMasterKey = masterKey('SWITCHBOARD_MASTER_KEY', values.SWITCHBOARD_MASTER_KEY);
  const previousMasterKey = masterKey('SWITCHBOARD_MASTER_KEY_PREVIOUS', values.SWITCHBOARD_MASTER_KEY_PREVIOUS);

  const retentionText = values.SWITCHBOARD_RETENTION_DAYS;
  let retentionDays: number | null = null;
  if (retentionText !== undefined && retentionText !== '') {
    retentionDays = Number(retentionText);
    if (!Number.isInteger(retentionDays) || retentionDays < 1) throw new ConfigError(`SWITCHBOARD_RETENTION_DAYS must be a whole number of days (1 or more), not '${retentionText}'`);
  }

  if (!values.SWITCHBOARD_ADMIN_KEY && !isLoopbackAddress(values.HOST)) {
    throw new ConfigError(
      `Refusing to listen on ${values.HOST} without SWITCHBOARD_ADMIN_KEY: open local mode treats every caller as admin, so it binds to loopback only. Set SWITCHBOARD_ADMIN_KEY or HOST=127.0.0.1.`,
    );
  }

  return {
    port: values.PORT,
    host: values.HOST,
    databasePath: databasePath(values.DATABASE_URL),
    databaseUrl: isPostgresUrl(values.DATABASE_URL) ? values.DATABASE_URL : undefined,
    adminKey: values.SWITCHBOARD_ADMIN_KEY,
    providers,
    localDelayMs: values.SWITCHBOARD_LOCAL_DELAY_MS,
    shutdownGraceMs: values.SWITCHBOARD_SHUTDOWN_GRACE_MS,
    graphiql: values.SWITCHBOARD_GRAPHIQL === 'true',
    logLevel: values.LOG_LEVEL,
    routing: withFileModelRouting(toRoutingConfig(values), file, values.SWITCHBOARD_ROUTING_MODELS),
    limits: toLimitsConfig(values),
    masterKey: currentMasterKey,
    previousMasterKeys: previousMasterKey ? [previousMasterKey] : [],
    allowPrivateUpstreams: values.SWITCHBOARD_ALLOW_PRIVATE_UPSTREAMS === 'true',
    retentionDays,
    configFile:
      file && path !== undefined
        ? { path, providerIds: declaredInFile.map((provider) => provider.id), models: file.models, keys: file.keys, lines: read?.lines ?? { models: [], keys: [] } }
        : undefined,
    storeContent: values.SWITCHBOARD_STORE_CONTENT === 'true',
    tracing: { otlpEndpoint: values.OTEL_EXPORTER_OTLP_ENDPOINT || undefined, serviceName: values.OTEL_SERVICE_NAME || 'switchboard' },
    cache: {
      scope: values.SWITCHBOARD_CACHE_SCOPE,
      maxEntries: values.SWITCHBOARD_CACHE_MAX_ENTRIES,
      maxBytes: values.SWITCHBOARD_CACHE_MAX_BYTES,
      redisPrefix: values.SWITCHBOARD_CACHE_REDIS_PREFIX,
    },
    redis: values.REDIS_URL ? { url: values.REDIS_URL, prefix: values.SWITCHBOARD_REDIS_PREFIX, failureMode: values.SWITCHBOARD_REDIS_FAILURE } : undefined,
  };
}

/** Per-model routing: the file's entries, with SWITCHBOARD_ROUTING_MODELS winning for a model both name. */
function withFileModelRouting(routing: RoutingConfig, file: ConfigFile | undefined, fromEnvironment: RoutingConfig['models'] | undefined): RoutingConfig {
  if (!file?.routing.models) return routing;
  return { ...routing, models: { ...file.routing.models, ...(fromEnvironment ?? {}) } };
}

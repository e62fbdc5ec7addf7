import { z } from 'zod';
import { parseMasterKey } from './auth/secret-box.js';
import { isReservedProviderId, presetProviders, PROVIDER_ID_PATTERN, PROVIDER_ID_RULE } from './catalog/providers.js';
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
  SWITCHBOARD_LOG_CONTENT: z.string().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // The standard OpenTelemetry variables; an empty endpoint counts as unset, as the SDKs treat it.
  OTEL_EXPORTER_OTLP_ENDPOINT: z.union([z.literal(''), z.string().url()]).optional(),
  OTEL_SERVICE_NAME: z.string().optional(),
}).merge(routingEnvSchema).merge(limitsEnvSchema);

export interface Config {
  port: number;
  host: string;
  /** Path of the SQLite file, or ':memory:'. */
  databasePath: string;
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
  /** SWITCHBOARD_LOG_CONTENT was set: it is not implemented, and start-up says so rather than ignoring it. */
  logContentRequested: boolean;
  /** OpenTelemetry traces (src/telemetry/tracing.ts): exported over OTLP HTTP only when an endpoint is set. */
  tracing: { otlpEndpoint: string | undefined; serviceName: string };
}

export class ConfigError extends Error {}

function databasePath(url: string): string {
  if (url === ':memory:' || url === 'file::memory:') return ':memory:';
  if (url.startsWith('file:')) return url.slice('file:'.length);
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    throw new ConfigError('DATABASE_URL: PostgreSQL is not supported yet; use file:./switchboard.db');
  }
  return url;
}

/** Reads and validates the environment once; every other module takes the typed Config. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new ConfigError(`Invalid configuration: ${problems}`);
  }
  const values = parsed.data;

  const providers: ProviderConfig[] = presetProviders(env);
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
  const logContent = values.SWITCHBOARD_LOG_CONTENT;

  if (!values.SWITCHBOARD_ADMIN_KEY && !isLoopbackAddress(values.HOST)) {
    throw new ConfigError(
      `Refusing to listen on ${values.HOST} without SWITCHBOARD_ADMIN_KEY: open local mode treats every caller as admin, so it binds to loopback only. Set SWITCHBOARD_ADMIN_KEY or HOST=127.0.0.1.`,
    );
  }

  return {
    port: values.PORT,
    host: values.HOST,
    databasePath: databasePath(values.DATABASE_URL),
    adminKey: values.SWITCHBOARD_ADMIN_KEY,
    providers,
    localDelayMs: values.SWITCHBOARD_LOCAL_DELAY_MS,
    shutdownGraceMs: values.SWITCHBOARD_SHUTDOWN_GRACE_MS,
    graphiql: values.SWITCHBOARD_GRAPHIQL === 'true',
    logLevel: values.LOG_LEVEL,
    routing: toRoutingConfig(values),
    limits: toLimitsConfig(values),
    masterKey: currentMasterKey,
    previousMasterKeys: previousMasterKey ? [previousMasterKey] : [],
    allowPrivateUpstreams: values.SWITCHBOARD_ALLOW_PRIVATE_UPSTREAMS === 'true',
    retentionDays,
    logContentRequested: logContent !== undefined && logContent !== '' && logContent !== 'false',
    tracing: { otlpEndpoint: values.OTEL_EXPORTER_OTLP_ENDPOINT || undefined, serviceName: values.OTEL_SERVICE_NAME || 'switchboard' },
  };
}

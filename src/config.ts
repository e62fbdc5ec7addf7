import { z } from 'zod';
import { parseMasterKey } from './auth/secret-box.js';
import type { ProviderConfig, ProviderKind } from './providers/types.js';
import { routingEnvSchema, toRoutingConfig, type RoutingConfig } from './routing/config.js';
import { limitsEnvSchema, toLimitsConfig, type LimitsConfig } from './http/limits.js';

/** Where each built-in provider lives and how it is switched on. */
interface ProviderPreset {
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

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host) || host.startsWith('127.');
}

/** A self-hosted OpenAI-compatible server declared in SWITCHBOARD_PROVIDERS (vLLM, LM Studio, llama.cpp…). */
const customProviderSchema = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'provider ids are lowercase letters, digits, _ and -'),
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
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
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
      if (provider.id === 'local' || providers.some((existing) => existing.id === provider.id)) {
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

  if (!values.SWITCHBOARD_ADMIN_KEY && !isLoopbackHost(values.HOST)) {
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
  };
}

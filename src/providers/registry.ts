import { createAnthropicAdapter } from './anthropic/adapter.js';
import { createGeminiAdapter } from './gemini/adapter.js';
import { createLocalAdapter } from './local.js';
import { createOllamaAdapter } from './ollama/adapter.js';
import { createOpenAICompatibleAdapter } from './openai-compatible/adapter.js';
import { createOpenAIAdapter } from './openai/adapter.js';
import { redactUpstreamError } from './errors.js';
import { SecretRedactor, secretsOf } from './redaction.js';
import type { ProviderAdapter, ProviderConfig } from './types.js';

export interface RegistryOptions {
  localDelayMs: number;
}

/**
 * The running adapters, by provider id, made from provider configurations by kind. Which providers exist and when
 * each is (un)registered is src/catalog/providers.ts's decision; this only holds the result.
 */
export class AdapterRegistry {
  private readonly adapters = new Map<string, ProviderAdapter>();
  /**
   * Every secret of every configuration registered here (environment keys, keys sealed through the API, custom
   * header values), redacted from every error any adapter throws. One redactor for all: an upstream may echo another
   * provider's key too (a shared proxy, a misrouted request).
   */
  readonly redactor = new SecretRedactor();

  constructor(
    configs: readonly ProviderConfig[],
    private readonly options: RegistryOptions,
  ) {
    for (const config of configs) {
      this.redactor.add(secretsOf(config));
      this.adapters.set(config.id, createAdapter(config, options, this.redactor));
    }
  }

  /** Stops routing to a provider (its stored key was cleared); requests already under way finish. */
  unregister(providerId: string): void {
    this.adapters.delete(providerId);
  }

  get(providerId: string): ProviderAdapter | undefined {
    return this.adapters.get(providerId);
  }

  has(providerId: string): boolean {
    return this.adapters.has(providerId);
  }

  /** Adds or replaces a provider's adapter at runtime: a provider added or re-pointed through the admin API. */
  register(config: ProviderConfig): ProviderAdapter {
    this.redactor.add(secretsOf(config));
    const adapter = createAdapter(config, this.options, this.redactor);
    this.adapters.set(config.id, adapter);
    return adapter;
  }

  ids(): string[] {
    return [...this.adapters.keys()];
  }
}

/**
 * The adapter for a provider kind, behind the choke point every upstream-derived error passes: see redactingAdapter.
 * Without a registry's redactor, it redacts the configuration's own secrets.
 */
export function createAdapter(config: ProviderConfig, options: RegistryOptions, redactor: SecretRedactor = new SecretRedactor(secretsOf(config))): ProviderAdapter {
  return redactingAdapter(createAdapterOfKind(config, options), redactor);
}

function createAdapterOfKind(config: ProviderConfig, options: RegistryOptions): ProviderAdapter {
  switch (config.kind) {
    case 'openai':
      return createOpenAIAdapter(config);
    case 'anthropic':
      return createAnthropicAdapter(config);
    case 'gemini':
      return createGeminiAdapter(config);
    case 'ollama':
      return createOllamaAdapter(config);
    case 'openai_compatible':
      return createOpenAICompatibleAdapter(config);
    case 'local':
      return createLocalAdapter({ delayMs: options.localDelayMs });
  }
}

/**
 * Wraps an adapter so that whatever it throws — an error body of any status, an error envelope inside a 2xx, an
 * in-stream error event, a parse failure quoting the response — leaves it with every secret redacted and marked as
 * upstream text. This is the one place: each message is redacted whole, after the adapter assembled it from however
 * many chunks it arrived in, so a key split across two reads is caught; adapters redact nothing themselves.
 */
export function redactingAdapter(adapter: ProviderAdapter, redactor: SecretRedactor): ProviderAdapter {
  const redact = (text: string): string => redactor.redact(text);
  // Even after an abort: an upstream error may have raced the abort in, and routing keeps it as a timeout's cause.
  // An abort error itself keeps its identity (its message is ours and has nothing to redact).
  const rethrow = (error: unknown): never => {
    throw redactUpstreamError(error, redact);
  };
  const listModels = adapter.listModels?.bind(adapter);
  const embed = adapter.embed?.bind(adapter);
  return {
    id: adapter.id,
    kind: adapter.kind,
    async complete(request, options) {
      try {
        return await adapter.complete(request, options);
      } catch (error) {
        return rethrow(error);
      }
    },
    async *stream(request, options) {
      try {
        // yield* passes the consumer's return() through, so stopping early still closes the upstream connection.
        yield* adapter.stream(request, options);
      } catch (error) {
        rethrow(error);
      }
    },
    ...(listModels !== undefined
      ? {
          async listModels(options) {
            try {
              return await listModels(options);
            } catch (error) {
              return rethrow(error);
            }
          },
        }
      : {}),
    ...(embed !== undefined
      ? {
          async embed(request, options) {
            try {
              return await embed(request, options);
            } catch (error) {
              return rethrow(error);
            }
          },
        }
      : {}),
  };
}

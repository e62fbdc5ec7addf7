import { createAnthropicAdapter } from './anthropic/adapter.js';
import { createGeminiAdapter } from './gemini/adapter.js';
import { createLocalAdapter } from './local.js';
import { createOllamaAdapter } from './ollama/adapter.js';
import { createOpenAICompatibleAdapter } from './openai-compatible/adapter.js';
import { createOpenAIAdapter } from './openai/adapter.js';
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

  constructor(
    configs: readonly ProviderConfig[],
    private readonly options: RegistryOptions,
  ) {
    for (const config of configs) this.adapters.set(config.id, createAdapter(config, options));
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
    const adapter = createAdapter(config, this.options);
    this.adapters.set(config.id, adapter);
    return adapter;
  }

  ids(): string[] {
    return [...this.adapters.keys()];
  }
}

export function createAdapter(config: ProviderConfig, options: RegistryOptions): ProviderAdapter {
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

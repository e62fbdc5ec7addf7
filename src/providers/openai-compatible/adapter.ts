import { createChatCompletionsAdapter } from '../openai/adapter.js';
import type { ChatCompletionsQuirks } from '../openai/quirks.js';
import type { ProviderAdapter, ProviderConfig } from '../types.js';
import { quirksForProvider } from './quirks.js';

/**
 * A provider that speaks OpenAI Chat Completions at `{baseUrl}/chat/completions`: Mistral, Groq, DeepSeek,
 * Together, OpenRouter or any self-hosted server. Quirks default to those of the provider id.
 */
export function createOpenAICompatibleAdapter(config: ProviderConfig, quirks: ChatCompletionsQuirks = quirksForProvider(config.id)): ProviderAdapter {
  return createChatCompletionsAdapter(config, quirks);
}

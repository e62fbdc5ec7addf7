import { createOpenAICompatibleAdapter } from '../../../src/providers/openai-compatible/adapter.js';
import { quirksForProvider } from '../../../src/providers/openai-compatible/quirks.js';
import { startFakeOpenAICompatible, type CompatibleFlavorName } from '../../fakes/openai-compatible.js';
import type { ConformanceTarget } from '../harness.js';
import { bearerAuthorized, inspectChatRequest } from './openai.js';

interface CompatibleTargetSpec {
  /** The provider id, which picks the adapter's quirks. */
  id: string;
  name: string;
  flavor: CompatibleFlavorName;
  model: string;
  /** Null for a server run without a key. */
  apiKey: string | null;
  supports: ConformanceTarget['supports'];
}

function compatibleTarget(spec: CompatibleTargetSpec): ConformanceTarget {
  const maxTokensField = quirksForProvider(spec.id).maxTokensField;
  return {
    name: `openai-compatible/${spec.id}`,
    model: spec.model,
    startFake: () => startFakeOpenAICompatible(spec.flavor, { apiKey: spec.apiKey, models: [spec.model] }),
    createAdapter: (baseUrl) =>
      createOpenAICompatibleAdapter({ id: spec.id, kind: 'openai_compatible', name: spec.name, baseUrl, ...(spec.apiKey !== null ? { apiKey: spec.apiKey } : {}) }),
    inspect: (request) => inspectChatRequest(request, maxTokensField),
    apiKey: spec.apiKey ?? 'no-key-configured',
    // A keyless server must get no Authorization header at all, not an empty Bearer.
    authorized: (request) => (spec.apiKey === null ? request.headers.authorization === undefined : bearerAuthorized(request, spec.apiKey)),
    supports: spec.supports,
  };
}

export const openaiCompatibleTargets: ConformanceTarget[] = [
  compatibleTarget({
    id: 'mistral',
    name: 'Mistral',
    flavor: 'mistral',
    model: 'mistral-small-latest',
    apiKey: 'mistral-test-key-7f3a9c',
    supports: { images: true, jsonSchema: true, contentFilter: false },
  }),
  compatibleTarget({
    id: 'groq',
    name: 'Groq',
    flavor: 'groq',
    model: 'llama-3.3-70b-versatile',
    apiKey: 'gsk_test_key_5b8e1d',
    supports: { images: true, jsonSchema: true, contentFilter: false },
  }),
  compatibleTarget({
    id: 'deepseek',
    name: 'DeepSeek',
    flavor: 'deepseek',
    model: 'deepseek-chat',
    apiKey: 'sk-deepseek-test-2c4f6a',
    supports: { images: false, jsonSchema: false, contentFilter: true },
  }),
  compatibleTarget({
    id: 'together',
    name: 'Together AI',
    flavor: 'together',
    model: 'meta-llama/Llama-3.3-70B-Instruct-Turbo',
    apiKey: 'together-test-key-9d1b3e',
    supports: { images: true, jsonSchema: true, contentFilter: false },
  }),
  compatibleTarget({
    id: 'openrouter',
    name: 'OpenRouter',
    flavor: 'openrouter',
    model: 'openai/gpt-4o-mini',
    apiKey: 'sk-or-v1-test-key-4e6a8c',
    supports: { images: true, jsonSchema: true, contentFilter: true },
  }),
  compatibleTarget({
    id: 'vllm',
    name: 'vLLM',
    flavor: 'self-hosted',
    model: 'Qwen/Qwen2.5-7B-Instruct',
    apiKey: 'vllm-local-key-1a2b3c',
    supports: { images: true, jsonSchema: true, contentFilter: false },
  }),
  compatibleTarget({
    id: 'lmstudio',
    name: 'LM Studio',
    flavor: 'self-hosted',
    model: 'qwen2.5-7b-instruct',
    apiKey: null,
    supports: { images: true, jsonSchema: true, contentFilter: false },
  }),
];

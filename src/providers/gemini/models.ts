import type { ProviderModelInfo } from '../types.js';
import type { z } from 'zod';
import type { listModelsResponseSchema } from './wire.js';

type ListModelsPage = z.infer<typeof listModelsResponseSchema>;

/**
 * The chat models on one page of GET /v1beta/models. Models that cannot generateContent (embedding,
 * AQA, image-only models) are left out: the catalog lists models this adapter can serve.
 */
export function fromGeminiModelList(page: ListModelsPage): ProviderModelInfo[] {
  const models: ProviderModelInfo[] = [];
  for (const model of page.models ?? []) {
    const methods = model.supportedGenerationMethods;
    if (methods !== undefined && !methods.includes('generateContent')) continue;
    models.push({
      id: model.name.replace(/^models\//, ''),
      ...(model.displayName !== undefined ? { displayName: model.displayName } : {}),
      ...(model.inputTokenLimit !== undefined ? { contextLength: model.inputTokenLimit } : {}),
      ...(model.outputTokenLimit !== undefined ? { maxOutputTokens: model.outputTokenLimit } : {}),
    });
  }
  return models;
}

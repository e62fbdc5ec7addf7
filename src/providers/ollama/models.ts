import type { z } from 'zod';
import type { ProviderModelInfo } from '../types.js';
import type { tagsResponseSchema } from './wire.js';

type TagsResponse = z.infer<typeof tagsResponseSchema>;

/** The models GET /api/tags lists. It says nothing of context length; that would take one /api/show call per model. */
export function fromOllamaModelList(response: TagsResponse): ProviderModelInfo[] {
  return (response.models ?? []).map((model) => ({ id: model.name }));
}

import type { ModelRow } from '../db/schema.js';
import { BadRequestError } from '../errors.js';

/** An embedding model answers with vectors: its catalog row says EMBEDDING among its outputs and no TEXT. */
export function isEmbeddingModel(model: Pick<ModelRow, 'outputModalities'>): boolean {
  return model.outputModalities.includes('EMBEDDING') && !model.outputModalities.includes('TEXT');
}

/** A completion asked of an embedding model would reach an upstream that cannot answer it: refused here, by name. */
export function requireChatModel(model: Pick<ModelRow, 'id' | 'outputModalities'>): void {
  if (isEmbeddingModel(model)) throw new BadRequestError(`'${model.id}' is an embedding model: call /v1/embeddings (GraphQL createEmbedding), not a completion`, 'model');
}

/** The other way round: an embedding asked of a chat model. */
export function requireEmbeddingModel(model: Pick<ModelRow, 'id' | 'outputModalities'>): void {
  if (!model.outputModalities.includes('EMBEDDING')) throw new BadRequestError(`'${model.id}' is not an embedding model: its catalog entry outputs ${model.outputModalities.join(', ')}; use a model whose output is EMBEDDING`, 'model');
}

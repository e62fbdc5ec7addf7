import { builder } from '../builder.js';
import type { ModelEndpointRow, ModelRow, ProviderRow } from '../db/schema.js';

/*
 * The catalog's object refs, declared apart from their implementations: a model lists its endpoints' providers
 * and a provider lists its models, so models.ts and providers.ts would otherwise import each other.
 */
export const ModelRef = builder.objectRef<ModelRow>('Model');
export const ModelEndpointRef = builder.objectRef<ModelEndpointRow>('ModelEndpoint');
export const ProviderRef = builder.objectRef<ProviderRow>('Provider');

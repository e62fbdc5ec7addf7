import { ProviderError } from '../errors.js';
import type { ProviderModelInfo } from '../types.js';
import { modelListSchema } from './wire.js';

/** Maps a GET /models body onto model infos, reading whichever context-window field the server uses. Pure. */
export function fromOpenAIModelList(provider: string, json: unknown): ProviderModelInfo[] {
  const parsed = modelListSchema.safeParse(json);
  if (!parsed.success) {
    throw new ProviderError(`${provider} sent a model list in an unexpected shape`, { provider, kind: 'malformed_response', cause: parsed.error });
  }
  const models = Array.isArray(parsed.data) ? parsed.data : parsed.data.data;
  return models.map((model) => {
    const displayName = model.display_name ?? model.name ?? undefined;
    const contextLength = model.context_length ?? model.context_window ?? model.max_context_length ?? model.max_model_len ?? undefined;
    const maxOutputTokens = model.max_completion_tokens ?? model.top_provider?.max_completion_tokens ?? undefined;
    return {
      id: model.id,
      ...(displayName !== undefined ? { displayName } : {}),
      ...(contextLength !== undefined ? { contextLength } : {}),
      ...(maxOutputTokens !== undefined ? { maxOutputTokens } : {}),
    };
  });
}

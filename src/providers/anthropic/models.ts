import type { z } from 'zod';
import type { ProviderModelInfo } from '../types.js';
import type { modelsPageSchema } from './wire.js';

type ModelsPage = z.infer<typeof modelsPageSchema>;

/** The models on one page of GET /v1/models, with the limits the API reports. Pure. */
export function fromAnthropicModelList(page: ModelsPage): ProviderModelInfo[] {
  return page.data.map((model) => {
    const info: ProviderModelInfo = { id: model.id };
    if (model.display_name != null) info.displayName = model.display_name;
    if (model.max_input_tokens != null) info.contextLength = model.max_input_tokens;
    if (model.max_tokens != null) info.maxOutputTokens = model.max_tokens;
    return info;
  });
}

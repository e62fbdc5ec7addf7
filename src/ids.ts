import { randomBytes } from 'node:crypto';

/** Ids, a leaf every layer may import: storage mints audit ids, composition mints request ids. */

/** Ids that sort by creation time (so the ledger pages in time order) and cannot be guessed. */
export function newId(prefix: string, now = Date.now()): string {
  return `${prefix}_${now.toString(36).padStart(9, '0')}${randomBytes(10).toString('base64url')}`;
}

/** The id of a model addressed on its provider directly, `<provider>/<provider model id>`; catalog sync names the models it adds this way. */
export function directModelId(providerId: string, providerModelId: string): string {
  return `${providerId}/${providerModelId}`;
}

/** The model id a request is served under: the catalog model's id, or the direct id when the catalog does not list it. */
export function servedModelId(model: { id: string } | null | undefined, providerId: string, providerModelId: string): string {
  return model?.id ?? directModelId(providerId, providerModelId);
}

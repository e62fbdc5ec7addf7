import { randomBytes } from 'node:crypto';

/** Ids, a leaf every layer may import: storage mints audit ids, composition mints request ids. */

const RANDOM_BYTES = 10;
/**
 * Random bytes are drawn from the CSPRNG a pool at a time, each byte used once: a synchronous randomBytes call per
 * id (two or three ids a request) was ~2% of a request's CPU, as Node's own randomUUID avoids with the same cache.
 */
const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let poolOffset = 0;

/** Ids that sort by creation time (so the ledger pages in time order) and cannot be guessed. */
export function newId(prefix: string, now = Date.now()): string {
  if (poolOffset + RANDOM_BYTES > pool.length) {
    pool = randomBytes(POOL_BYTES);
    poolOffset = 0;
  }
  const random = pool.toString('base64url', poolOffset, poolOffset + RANDOM_BYTES);
  poolOffset += RANDOM_BYTES;
  return `${prefix}_${now.toString(36).padStart(9, '0')}${random}`;
}

/** The id of a model addressed on its provider directly, `<provider>/<provider model id>`; catalog sync names the models it adds this way. */
export function directModelId(providerId: string, providerModelId: string): string {
  return `${providerId}/${providerModelId}`;
}

/** The model id a request is served under: the catalog model's id, or the direct id when the catalog does not list it. */
export function servedModelId(model: { id: string } | null | undefined, providerId: string, providerModelId: string): string {
  return model?.id ?? directModelId(providerId, providerModelId);
}

import { BadRequestError } from '../errors.js';
import type { EmbeddingRequest, EmbeddingResponse } from './embeddings.js';
import { encodeTokensExact } from './tokenizer.js';

/** The vector length of `local/embed` when the caller names none. */
export const LOCAL_EMBED_DIMENSIONS = 256;
/** The longest vector it makes: a bound on what one request can make the gateway allocate per input. */
export const LOCAL_EMBED_MAX_DIMENSIONS = 4096;

/** FNV-1a, 32 bits: stable across processes and versions, which a demo embedding must be to be compared later. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * Hashed token features (each token, and each pair of neighbours for a little word order), signed so that
 * collisions cancel rather than pile up, then scaled to unit length: texts sharing words point the same way.
 */
function vectorOf(tokens: number[], dimensions: number): number[] {
  const vector = new Array<number>(dimensions).fill(0);
  const add = (feature: string, weight: number): void => {
    const hash = fnv1a(feature);
    const slot = hash % dimensions;
    vector[slot] = (vector[slot] ?? 0) + ((hash & 0x80000000) === 0 ? weight : -weight);
  };
  for (let index = 0; index < tokens.length; index++) {
    add(`t${tokens[index]}`, 1);
    if (index > 0) add(`b${tokens[index - 1]},${tokens[index]}`, 0.5);
  }
  const norm = Math.sqrt(vector.reduce((sum, value) => sum + value * value, 0));
  // An empty text has no direction: its vector stays zero instead of dividing by nothing.
  // Rounded to float32, as providers' vectors are: a base64 answer (float32) then carries exactly the float answer's numbers.
  return norm === 0 ? vector : vector.map((value) => Math.fround(value / norm));
}

/** `local/embed`: a deterministic embedding computed in process from the real tokenizer's tokens; usage is exact. */
export async function localEmbed(request: EmbeddingRequest, signal: AbortSignal): Promise<EmbeddingResponse> {
  const dimensions = request.dimensions ?? LOCAL_EMBED_DIMENSIONS;
  if (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > LOCAL_EMBED_MAX_DIMENSIONS) {
    throw new BadRequestError(`local/embed makes vectors of 1 to ${LOCAL_EMBED_MAX_DIMENSIONS} dimensions`, 'dimensions');
  }
  const embeddings: number[][] = [];
  let promptTokens = 0;
  for (const item of request.input) {
    signal.throwIfAborted();
    const tokens = item.type === 'tokens' ? item.tokens : await encodeTokensExact(item.text, Number.POSITIVE_INFINITY, signal);
    promptTokens += tokens.length;
    embeddings.push(vectorOf(tokens, dimensions));
  }
  return { model: request.model, embeddings, usage: { promptTokens, estimated: false }, warnings: [] };
}

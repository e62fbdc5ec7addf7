import { countTokens as countCl100k } from 'gpt-tokenizer/encoding/cl100k_base';

/**
 * What the fakes put in their embeddings: a vector that depends only on the text and the length asked, unit length,
 * so a test can compute the exact vector a provider would have sent and compare what the gateway handed on.
 */
export function fakeVector(text: string, dimensions: number): number[] {
  let seed = 2166136261;
  for (let index = 0; index < text.length; index++) seed = Math.imul(seed ^ text.charCodeAt(index), 16777619) >>> 0;
  const values: number[] = [];
  for (let index = 0; index < dimensions; index++) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    values.push(seed / 2 ** 32 - 0.5);
  }
  const norm = Math.sqrt(values.reduce((sum, value) => sum + value * value, 0));
  // Rounded to float32, as every provider's vectors are, so base64 and float answers carry the same numbers.
  return values.map((value) => Math.fround(value / norm));
}

/** OpenAI's embedding models count with cl100k_base; the fakes report that count. */
export function fakeTokenCount(text: string): number {
  return countCl100k(text);
}

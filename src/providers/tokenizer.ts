import { Tiktoken } from 'js-tiktoken/lite';
import o200kBase from 'js-tiktoken/ranks/o200k_base';

/**
 * A real BPE tokenizer (OpenAI's o200k_base). Used for the local provider's usage and for estimates when a
 * provider reports none; for other vendors' models it is an approximation, which is why such usage is marked estimated.
 */
let encoder: Tiktoken | undefined;
function getEncoder(): Tiktoken {
  encoder ??= new Tiktoken(o200kBase);
  return encoder;
}

export function countTokens(text: string): number {
  if (text === '') return 0;
  return getEncoder().encode(text).length;
}

export function encodeTokens(text: string): number[] {
  return getEncoder().encode(text);
}

export function decodeTokens(tokens: number[]): string {
  return getEncoder().decode(tokens);
}

/** Builds the encoder now (about a second of CPU) so the first request does not pay for it. */
export function warmTokenizer(): void {
  getEncoder();
}

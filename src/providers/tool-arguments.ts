import { z } from 'zod';

const argumentsSchema = z.record(z.unknown());

/**
 * Tool call arguments as an object, for wire formats that carry them as JSON objects rather than text
 * (Gemini, Ollama). Undefined when the text is not a JSON object.
 */
export function argumentsObject(text: string): Record<string, unknown> | undefined {
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = argumentsSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

/**
 * How structured output is asked of Anthropic. API version 2023-06-01 has no JSON mode that every model accepts:
 * the newer `output_config.format` is only served by some recent models and is rejected by the rest, and an adapter
 * does not know which model it is talking to. So:
 * - json_schema becomes a tool whose input_schema is the schema, forced with tool_choice; Anthropic's own
 *   documented "JSON via tool use" pattern, which every tool-capable model honours. The tool's input is handed back
 *   as the response text, so callers see plain JSON content.
 * - json_object (no schema to give a tool) becomes an instruction appended to the system prompt, with a warning
 *   that the output is requested, not guaranteed.
 * The tool is only used when the caller sent no tools of their own: forcing it would take their tools away.
 */

import type { ResponseFormat } from '../types.js';

/** Appended to the system prompt for json_object; tests detect it to see what was really sent. */
export const JSON_OBJECT_INSTRUCTION = 'Respond only with a single valid JSON object. Do not add any text before or after it.';

/** Precedes the schema in the system prompt when a json_schema cannot travel as a tool. */
export const JSON_SCHEMA_INSTRUCTION = 'Respond only with JSON matching this JSON Schema, with no text before or after it:';

/** The description of the forced tool; tests detect it to tell it from a caller's tool. */
export const JSON_TOOL_DESCRIPTION = 'Give your final answer by calling this tool. Its input is your whole response, as JSON matching the schema.';

/** Anthropic tool names must match ^[a-zA-Z0-9_-]{1,64}$. */
export function jsonToolName(schemaName: string): string {
  const cleaned = schemaName.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, 64);
  return cleaned === '' ? 'json_response' : cleaned;
}

export interface JsonOutputPlan {
  /** Text to append to the system prompt. */
  systemInstruction?: string;
  /** A tool to add and force; its input becomes the response text. */
  tool?: { name: string; description: string; input_schema: Record<string, unknown> };
  warnings: string[];
}

export function planJsonOutput(format: ResponseFormat | undefined, callerHasTools: boolean): JsonOutputPlan {
  if (format === undefined || format.type === 'text') return { warnings: [] };
  if (format.type === 'json_object') {
    return {
      systemInstruction: JSON_OBJECT_INSTRUCTION,
      warnings: ['responseFormat json_object: Anthropic has no JSON mode; the model is instructed to answer in JSON, which is not guaranteed'],
    };
  }
  // Tool input schemas must describe an object; any other root (an array, a string) can only be asked for in words.
  const objectRoot = format.schema['type'] === 'object';
  if (callerHasTools || !objectRoot) {
    const why = callerHasTools ? 'the request also has tools' : 'the schema root is not an object';
    return {
      systemInstruction: `${JSON_SCHEMA_INSTRUCTION}\n${JSON.stringify(format.schema)}`,
      warnings: [`responseFormat json_schema: ${why}, so the schema is given as an instruction and the output is not guaranteed to match it`],
    };
  }
  return {
    tool: { name: jsonToolName(format.name), description: JSON_TOOL_DESCRIPTION, input_schema: format.schema },
    warnings: format.strict === true ? ['responseFormat json_schema strict: Anthropic tool inputs follow the schema but are not strictly validated'] : [],
  };
}

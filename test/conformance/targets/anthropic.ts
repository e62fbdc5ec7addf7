import { z } from 'zod';
import { createAnthropicAdapter } from '../../../src/providers/anthropic/adapter.js';
import { JSON_OBJECT_INSTRUCTION, JSON_SCHEMA_INSTRUCTION, JSON_TOOL_DESCRIPTION } from '../../../src/providers/anthropic/request.js';
import { startFakeAnthropic } from '../../fakes/anthropic.js';
import type { ConformanceTarget, InspectedRequest, ReceivedRequest } from '../harness.js';

const API_KEY = 'sk-ant-conformance-secret-5f3a9c';

const block = z.object({ type: z.string(), text: z.string().optional() });
const bodySchema = z.object({
  model: z.string().optional(),
  stream: z.boolean().optional(),
  system: z.union([z.string(), z.array(block)]).optional(),
  messages: z.array(z.object({ role: z.string(), content: z.union([z.string(), z.array(block)]) })).default([]),
  tools: z.array(z.object({ name: z.string(), description: z.string().optional() })).optional(),
  tool_choice: z.object({ type: z.string(), name: z.string().optional() }).optional(),
  max_tokens: z.number().optional(),
  temperature: z.number().optional(),
});
type Body = z.infer<typeof bodySchema>;

function texts(content: string | Array<z.infer<typeof block>>): string[] {
  if (typeof content === 'string') return [content];
  return content.flatMap((part) => (part.type === 'text' && part.text !== undefined ? [part.text] : []));
}

/** The structured output the body really asks for: a forced tool carrying the schema, or the JSON instruction. */
function responseFormat(body: Body, systemPrompt: string | undefined): InspectedRequest['responseFormat'] {
  const forced = body.tool_choice?.type === 'tool' ? body.tools?.find((tool) => tool.name === body.tool_choice?.name) : undefined;
  if (forced?.description === JSON_TOOL_DESCRIPTION) return 'json_schema';
  if (systemPrompt?.includes(JSON_SCHEMA_INSTRUCTION) === true) return 'json_schema';
  if (systemPrompt?.includes(JSON_OBJECT_INSTRUCTION) === true) return 'json_object';
  return undefined;
}

export const anthropicTarget: ConformanceTarget = {
  name: 'anthropic',
  model: 'claude-sonnet-4-6',
  apiKey: API_KEY,
  startFake: () => startFakeAnthropic({ apiKey: API_KEY }),
  createAdapter: (baseUrl) => createAnthropicAdapter({ id: 'anthropic', kind: 'anthropic', name: 'Anthropic', baseUrl, apiKey: API_KEY }),
  inspect(request: ReceivedRequest): InspectedRequest {
    const body = bodySchema.parse(request.body);
    const systemPrompt = body.system === undefined ? undefined : texts(body.system).join('\n\n');
    const userTurns = body.messages.filter((message) => message.role === 'user');
    return {
      model: body.model,
      stream: body.stream === true,
      systemPrompt,
      userTexts: userTurns.flatMap((message) => {
        const parts = texts(message.content);
        return parts.length === 0 ? [] : [parts.join('\n')];
      }),
      imageCount: userTurns.reduce((count, message) => count + (typeof message.content === 'string' ? 0 : message.content.filter((part) => part.type === 'image').length), 0),
      toolNames: (body.tools ?? []).filter((tool) => tool.description !== JSON_TOOL_DESCRIPTION).map((tool) => tool.name),
      maxTokens: body.max_tokens,
      temperature: body.temperature,
      responseFormat: responseFormat(body, systemPrompt),
    };
  },
  authorized: (request) => request.headers['x-api-key'] === API_KEY && request.headers['anthropic-version'] === '2023-06-01',
  supports: { images: true, jsonSchema: true, contentFilter: true },
};

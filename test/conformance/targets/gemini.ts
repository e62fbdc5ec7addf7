import { z } from 'zod';
import { createGeminiAdapter } from '../../../src/providers/gemini/adapter.js';
import { startFakeGemini } from '../../fakes/gemini.js';
import type { ConformanceTarget, InspectedRequest, ReceivedRequest } from '../harness.js';

const API_KEY = 'gemini-test-key-7f3a9c';

const partSchema = z.object({
  text: z.string().optional(),
  inlineData: z.object({}).passthrough().optional(),
  fileData: z.object({}).passthrough().optional(),
});
const bodySchema = z.object({
  contents: z.array(z.object({ role: z.string().optional(), parts: z.array(partSchema) })).default([]),
  systemInstruction: z.object({ parts: z.array(z.object({ text: z.string() })) }).optional(),
  tools: z.array(z.object({ functionDeclarations: z.array(z.object({ name: z.string() })).default([]) })).default([]),
  generationConfig: z
    .object({
      maxOutputTokens: z.number().optional(),
      temperature: z.number().optional(),
      responseMimeType: z.string().optional(),
      responseJsonSchema: z.unknown().optional(),
      responseSchema: z.unknown().optional(),
    })
    .default({}),
});

const PATH = /^\/v1beta\/models\/([^/:]+):(generateContent|streamGenerateContent)/;

function inspect(request: ReceivedRequest): InspectedRequest {
  const body = bodySchema.parse(request.body);
  const route = PATH.exec(request.path);
  const config = body.generationConfig;
  const json = config.responseMimeType === 'application/json';
  const hasSchema = config.responseJsonSchema !== undefined || config.responseSchema !== undefined;
  const userParts = body.contents.filter((content) => content.role === 'user').flatMap((content) => content.parts);
  return {
    model: route?.[1] === undefined ? undefined : decodeURIComponent(route[1]),
    stream: route?.[2] === 'streamGenerateContent',
    systemPrompt: body.systemInstruction?.parts.map((part) => part.text).join('\n'),
    userTexts: userParts.flatMap((part) => (part.text === undefined ? [] : [part.text])),
    imageCount: userParts.filter((part) => part.inlineData !== undefined || part.fileData !== undefined).length,
    toolNames: body.tools.flatMap((tool) => tool.functionDeclarations.map((declaration) => declaration.name)),
    maxTokens: config.maxOutputTokens,
    temperature: config.temperature,
    responseFormat: json ? (hasSchema ? 'json_schema' : 'json_object') : undefined,
  };
}

export const geminiTarget: ConformanceTarget = {
  name: 'gemini',
  model: 'gemini-2.5-flash',
  apiKey: API_KEY,
  startFake: () => startFakeGemini({ apiKey: API_KEY }),
  createAdapter: (baseUrl) => createGeminiAdapter({ id: 'gemini', kind: 'gemini', name: 'Google Gemini', baseUrl, apiKey: API_KEY }),
  inspect,
  // The key must come in the header, never in the query string where it would be logged.
  authorized: (request) => request.headers['x-goog-api-key'] === API_KEY && !new URL(request.path, 'http://fake').searchParams.has('key'),
  supports: { images: true, jsonSchema: true, contentFilter: true },
  // A bad API key is 400 INVALID_ARGUMENT (reason API_KEY_INVALID) on the real service, not 401.
  errorStatus: { authentication: 400 },
};

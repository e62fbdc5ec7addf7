import type { ModelRow } from '../db/schema.js';
import type { GatewayError } from '../errors.js';
import type { FinishReason, Message, ResponseFormat, ToolCall, ToolChoice, ToolDefinition, Usage } from '../providers/types.js';

/** A completion request as both transports hand it to the service, before validation. */
export interface CompletionInput {
  model: string;
  /** Fallback models, tried in order after `model`. */
  models?: string[];
  messages: Message[];
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  stop?: string[];
  seed?: number;
  tools?: ToolDefinition[];
  toolChoice?: ToolChoice;
  responseFormat?: ResponseFormat;
  metadata?: Record<string, unknown>;
  user?: string;
}

/** Who is asking, from whichever transport. */
export interface Caller {
  /** Null in open local mode. */
  apiKeyId: string | null;
  requestId: string;
}

export interface PricedUsage extends Usage {
  /** Exact cost in pico-dollars; null when a price was unknown. */
  costPicos: number | null;
}

export interface CompletionResult {
  id: string;
  requestedModel: string;
  model: ModelRow | null;
  providerId: string;
  providerModelId: string;
  content: string | null;
  reasoning: string | null;
  toolCalls: ToolCall[];
  finishReason: FinishReason;
  rawFinishReason: string | null;
  usage: PricedUsage;
  latencyMs: number;
  warnings: string[];
}

export interface ToolCallDelta {
  index: number;
  id?: string;
  name?: string;
  argumentsDelta: string;
}

export type CompletionEvent =
  | { type: 'started'; id: string; requestedModel: string; model: ModelRow | null; providerId: string; providerModelId: string; warnings: string[] }
  | { type: 'delta'; id: string; text: string; reasoning: string; toolCalls: ToolCallDelta[] }
  | { type: 'done'; id: string; finishReason: FinishReason; rawFinishReason: string | null; usage: PricedUsage; latencyMs: number }
  /** The stream failed after it started; always the last event. */
  | { type: 'error'; id: string; error: GatewayError; usage: PricedUsage };

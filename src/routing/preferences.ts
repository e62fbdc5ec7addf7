import type { CompletionInput, ProviderPreferences } from '../completions/types.js';
import { estimatePromptTokens, messageText } from '../providers/normalize.js';
import type { Candidate } from './resolve.js';

const sameProvider = (list: readonly string[] | undefined, providerId: string): boolean => list?.some((entry) => entry.toLowerCase() === providerId) ?? false;

/** `only` and `ignore`: which of a model's endpoints the request accepts at all. */
export function allowedByPreferences(candidate: Candidate, preferences: ProviderPreferences | undefined): boolean {
  if (!preferences) return true;
  if (preferences.only && !sameProvider(preferences.only, candidate.providerId)) return false;
  return !sameProvider(preferences.ignore, candidate.providerId);
}

/**
 * `order` and `allowFallbacks` on one model's ranked endpoints: the providers named in `order` go first, in that
 * order; the rest follow in rank unless fallbacks are off, in which case only the named ones remain (or, when the
 * model has none of them — a fallback model on other providers — its first choice).
 */
export function applyOrder(ranked: readonly Candidate[], preferences: ProviderPreferences | undefined): Candidate[] {
  const order = (preferences?.order ?? []).map((entry) => entry.toLowerCase());
  const named: Candidate[] = [];
  for (const providerId of order) named.push(...ranked.filter((candidate) => candidate.providerId === providerId && !named.includes(candidate)));
  const rest = ranked.filter((candidate) => !named.includes(candidate));
  if (preferences?.allowFallbacks === false) return named.length > 0 ? named : ranked.slice(0, 1);
  return [...named, ...rest];
}

/** What an endpoint must offer to take the request. */
export interface Requirements {
  tools: boolean;
  images: boolean;
  /** The prompt's size in tokens, counted only when some endpoint's context is small enough to matter. */
  promptTokens(): number;
  /** A cheap upper bound of the prompt's tokens (a token is at least one character). */
  promptTokensAtMost: number;
  /** A cheap estimate for ranking by price. */
  promptTokensRoughly: number;
}

export function requirementsOf(input: CompletionInput): Requirements {
  let characters = 0;
  for (const message of input.messages) characters += messageText(message).length + 4;
  for (const tool of input.tools ?? []) characters += tool.name.length + (tool.description?.length ?? 0) + JSON.stringify(tool.parameters).length;
  let counted: number | undefined;
  return {
    tools: (input.tools?.length ?? 0) > 0,
    images: input.messages.some((message) => message.role === 'user' && message.content.some((part) => part.type === 'image')),
    promptTokens: () => (counted ??= estimatePromptTokens(input)),
    promptTokensAtMost: characters + 3,
    promptTokensRoughly: Math.ceil(characters / 4),
  };
}

/** Why the catalog says an endpoint cannot take the request; null when it can. */
export type UnmetRequirement = 'capability' | 'contextLength';

/**
 * What the catalog says keeps this endpoint from taking the request: tools or images it lacks, or a prompt over its
 * context. An endpoint the catalog knows nothing of (a model addressed directly) is given the benefit of the doubt.
 */
export function unmetRequirement(candidate: Candidate, requirements: Requirements): UnmetRequirement | null {
  const model = candidate.model;
  if (!model) return null;
  if (requirements.tools && !model.supportedParameters.includes('tools')) return 'capability';
  if (requirements.images && !model.inputModalities.includes('IMAGE')) return 'capability';
  const contextLength = candidate.endpoint?.contextLength ?? model.contextLength;
  if (contextLength > 0 && requirements.promptTokensAtMost > contextLength && requirements.promptTokens() > contextLength) return 'contextLength';
  return null;
}

/** Whether the catalog says this endpoint can take the request: tools, images, and a prompt within its context. */
export function meetsRequirements(candidate: Candidate, requirements: Requirements): boolean {
  return unmetRequirement(candidate, requirements) === null;
}

import type { IncomingHttpHeaders } from 'node:http';
import type { CompletionInput } from '../completions/types.js';
import { BadRequestError } from '../errors.js';

/** Settings the provider (or the facade) could not honour, as a JSON array of strings. */
export const WARNINGS_HEADER = 'x-switchboard-warnings';
/** `true`: a parameter the provider cannot honour is refused (400 naming it) instead of dropped with a warning. */
export const STRICT_HEADER = 'x-switchboard-strict';

export function warningsHeader(warnings: readonly string[]): Record<string, string> {
  if (warnings.length === 0) return {};
  // Header values must be Latin-1 without line breaks; JSON with \u escapes is both.
  return { [WARNINGS_HEADER]: JSON.stringify(warnings).replace(/[^\x20-\x7e]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`) };
}

/** Lays `x-switchboard-strict` over the parsed request; anything but true or false is refused rather than guessed. */
export function applyStrictHeader(input: CompletionInput, headers: IncomingHttpHeaders): void {
  const raw = headers[STRICT_HEADER];
  if (raw === undefined) return;
  const text = (Array.isArray(raw) ? raw.join(',') : raw).trim().toLowerCase();
  if (text === 'true') input.strict = true;
  else if (text !== 'false') throw new BadRequestError(`The ${STRICT_HEADER} header must be true or false`, STRICT_HEADER);
}

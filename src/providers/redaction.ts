import type { ProviderConfig } from './types.js';

/**
 * Secrets shorter than this are not redacted. Every provider credential is far longer (OpenAI and Anthropic keys
 * are 50+ characters, Gemini's 39, Groq's 56); a value of a few characters is a flag or a name rather than a key,
 * and redacting it would cut ordinary words out of error text ("beta", "1", "json"). At 8 characters of a real
 * credential's alphabet an accidental match in an error message is negligible, so nothing real goes unredacted.
 */
export const MIN_SECRET_LENGTH = 8;

export const REDACTED = '[redacted]';

/**
 * Header values that name or describe us rather than authenticate us: OpenRouter's attribution headers, content
 * negotiation, API versions. Every other custom header value is treated as a secret (a gateway token, a proxy key),
 * since the operator put it in SWITCHBOARD_PROVIDERS for the upstream's eyes only.
 */
const PUBLIC_HEADERS = new Set(['accept', 'content-type', 'user-agent', 'http-referer', 'referer', 'x-title', 'anthropic-version', 'anthropic-beta', 'openai-beta']);

/** Bounds on how deeply a spelling may be escaped, so a hostile run of backslashes or `%25`s cannot make matching slow. */
const MAX_BACKSLASHES = 7;
const MAX_PERCENT_NESTING = 3;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

function hexPattern(value: number, width: number): string {
  // Either case: encoders differ (`%2F` and `%2f`, `\u002F` and `\u002f`).
  return [...value.toString(16).padStart(width, '0')].map((digit) => (/[a-f]/.test(digit) ? `[${digit}${digit.toUpperCase()}]` : digit)).join('');
}

/**
 * One character of a secret in any spelling an upstream is likely to echo it in: as itself, after backslashes (JSON's
 * `\"` `\\` `\/`, or a string escaped again inside another), as a `\uXXXX` escape, or percent-encoded (UTF-8 bytes,
 * possibly encoded more than once: `%2F`, `%252F`).
 */
function characterPattern(char: string): string {
  const code = char.codePointAt(0) ?? 0;
  const alternatives = [`\\\\{0,${MAX_BACKSLASHES}}${escapeRegExp(char)}`];
  // \u escapes are of UTF-16 code units: a character outside the BMP is two of them.
  const units = char.length === 1 ? [code] : [char.charCodeAt(0), char.charCodeAt(1)];
  alternatives.push(units.map((unit) => `\\\\{1,${MAX_BACKSLASHES}}u${hexPattern(unit, 4)}`).join(''));
  const bytes = [...Buffer.from(char, 'utf8')];
  // Encoding again turns `%2F` into `%252F`: each round puts `25` after the percent sign.
  alternatives.push(bytes.map((byte) => `%(?:25){0,${MAX_PERCENT_NESTING}}${hexPattern(byte, 2)}`).join(''));
  return `(?:${alternatives.join('|')})`;
}

function secretPattern(secret: string): string {
  return [...secret].map(characterPattern).join('');
}

/** The secret values of one provider configuration: its key, and its custom header values (a bearer token without its scheme too). */
export function secretsOf(config: Pick<ProviderConfig, 'apiKey' | 'headers'>): string[] {
  const secrets: string[] = [];
  if (config.apiKey !== undefined) secrets.push(config.apiKey);
  for (const [name, value] of Object.entries(config.headers ?? {})) {
    if (PUBLIC_HEADERS.has(name.toLowerCase())) continue;
    secrets.push(value);
    const scheme = /^(?:Bearer|Basic|Token)\s+(.+)$/i.exec(value.trim());
    if (scheme?.[1] !== undefined) secrets.push(scheme[1]);
  }
  return secrets;
}

/**
 * Removes every secret the gateway holds for upstream calls from text that came from upstream. It knows the keys of
 * the environment, keys sealed through the API and custom header values, because every provider configuration is
 * registered with it (src/providers/registry.ts), and it forgets none: a request started with a key replaced since
 * may still have its echo on the way. Every spelling is matched (JSON-escaped, \u-escaped, URL-encoded), so a key
 * quoted inside a quoted JSON document or a URL is caught as surely as a bare one.
 */
export class SecretRedactor {
  private readonly secrets = new Set<string>();
  private pattern: RegExp | undefined;

  constructor(secrets: Iterable<string> = []) {
    this.add(secrets);
  }

  /** Adds secrets to redact; values shorter than MIN_SECRET_LENGTH (and empty ones) are ignored, see there. */
  add(secrets: Iterable<string>): void {
    let changed = false;
    for (const secret of secrets) {
      const value = secret.trim();
      if (value.length < MIN_SECRET_LENGTH || this.secrets.has(value)) continue;
      this.secrets.add(value);
      changed = true;
    }
    if (!changed) return;
    // Longest first, so a secret that contains another is replaced whole rather than leaving its remainder.
    const ordered = [...this.secrets].sort((a, b) => b.length - a.length);
    this.pattern = new RegExp(ordered.map(secretPattern).join('|'), 'g');
  }

  get size(): number {
    return this.secrets.size;
  }

  redact(text: string): string {
    if (this.pattern === undefined || text === '') return text;
    return text.replace(this.pattern, REDACTED);
  }
}

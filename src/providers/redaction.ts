import type { ProviderConfig } from './types.js';

/**
 * Secrets shorter than this are not redacted. Every provider credential is far longer (OpenAI and Anthropic keys
 * are 50+ characters, Gemini's 39, Groq's 56); a value of a few characters is a flag or a name rather than a key,
 * and redacting it would cut ordinary words out of error text ("beta", "1", "json"). At 8 characters of a real
 * credential's alphabet an accidental match in an error message is negligible, so nothing real goes unredacted.
 */
export const MIN_SECRET_LENGTH = 8;

/** Upstream text past this many characters is cut (after redaction): nobody reads a longer error message. */
export const MAX_REDACTED_TEXT = 64 * 1024;

/** How many characters one character of a secret can take in its longest spelling matched here (`\\u0073`, `%2525`). */
const MAX_SPELLING_EXPANSION = 8;

export const REDACTED = '[redacted]';

/**
 * Header values that name or describe us rather than authenticate us: OpenRouter's attribution headers, content
 * negotiation, API versions. Every other custom header value is treated as a secret (a gateway token, a proxy key),
 * since the operator put it in SWITCHBOARD_PROVIDERS for the upstream's eyes only.
 */
const PUBLIC_HEADERS = new Set(['accept', 'content-type', 'user-agent', 'http-referer', 'referer', 'x-title', 'anthropic-version', 'anthropic-beta', 'openai-beta']);

// ignoreBOM keeps a leading U+FEFF as a character, so positions stay aligned with the source.
const UTF16 = new TextDecoder('utf-16le', { ignoreBOM: true });
const BACKSLASH = 0x5c;
const PERCENT = 0x25;
const LOWER_U = 0x75;

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x41 && code <= 0x46) return code - 0x37;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  return -1;
}

function hexAt(text: string, at: number, digits: number): number {
  if (at + digits > text.length) return -1;
  let value = 0;
  for (let index = at; index < at + digits; index++) {
    const digit = hexValue(text.charCodeAt(index));
    if (digit === -1) return -1;
    value = value * 16 + digit;
  }
  return value;
}

/** A text in canonical spelling, with where each of its characters came from in the original. */
interface Canonical {
  text: string;
  /** For each character of `text`: where its spelling starts in the original (escape and backslashes before it included). */
  start: Int32Array;
  /** …and where it ends. */
  end: Int32Array;
}

/**
 * Spells a text the one way secrets are looked for in: `\uXXXX` escapes and percent-encoded ASCII (`%2F`, and encoded
 * again, `%252F`) decoded, and every backslash dropped (JSON's `\"` `\/` `\\`, however many times a string was escaped
 * inside another). A secret is found in any of those spellings by finding its own canonical spelling in the text's, in
 * one linear pass and a native substring search: a regular expression of every spelling of every secret took
 * seconds over a body of a few megabytes. Only the characters of a match's span in the original are replaced.
 */
function canonical(source: string): Canonical {
  const length = source.length;
  const units = new Uint16Array(length);
  const start = new Int32Array(length);
  const end = new Int32Array(length);
  let count = 0;
  // Where the dropped backslashes before the next character began, so a match takes them with it.
  let pending = -1;
  let index = 0;
  while (index < length) {
    const from = index;
    let at = index;
    while (at < length && source.charCodeAt(at) === BACKSLASH) at++;
    if (at === length) break;
    let value = source.charCodeAt(at);
    let next = at + 1;
    if (at > index && value === LOWER_U) {
      const unit = hexAt(source, at + 1, 4);
      if (unit !== -1) {
        value = unit;
        next = at + 5;
      }
    } else if (value === PERCENT) {
      let digits = at + 1;
      while (source.startsWith('25', digits) && hexAt(source, digits + 2, 2) !== -1) digits += 2;
      const byte = hexAt(source, digits, 2);
      // Only ASCII: a multi-byte UTF-8 sequence stays as written (provider credentials are ASCII).
      if (byte !== -1 && byte < 0x80) {
        value = byte;
        next = digits + 2;
      }
    }
    if (value === BACKSLASH) {
      if (pending === -1) pending = from;
      index = next;
      continue;
    }
    units[count] = value;
    start[count] = pending === -1 ? from : pending;
    end[count] = next;
    count++;
    pending = -1;
    index = next;
  }
  // The code units as a string in one native call (String.fromCharCode would take them on the stack).
  const text = UTF16.decode(units.subarray(0, count));
  return { text, start, end };
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
 * may still have its echo on the way. Every spelling is matched (JSON-escaped, \u-escaped, URL-encoded, escaped
 * again inside another string), so a key quoted inside a quoted JSON document or a URL is caught as surely as a bare one.
 */
export class SecretRedactor {
  private readonly secrets = new Set<string>();
  /** The secrets in canonical spelling, longest first, so a secret that contains another is replaced whole. */
  private needles: string[] = [];

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
    const needles = new Set([...this.secrets].map((secret) => canonical(secret).text).filter((needle) => needle !== ''));
    this.needles = [...needles].sort((a, b) => b.length - a.length);
  }

  get size(): number {
    return this.secrets.size;
  }

  redact(text: string): string {
    if (this.needles.length === 0 || text === '') return text;
    if (text.length > MAX_REDACTED_TEXT) {
      // An upstream may send megabytes of error text, and redacting all of it held the event loop for hundreds of
      // milliseconds. Keep the head: cut past a margin that holds any secret's longest spelling, redact, then cut to
      // the bound, so a secret that straddles the bound was replaced before the cut and no prefix of it survives.
      const longest = this.needles[0]?.length ?? 0;
      const head = this.redactWhole(text.slice(0, MAX_REDACTED_TEXT + longest * MAX_SPELLING_EXPANSION));
      return `${head.slice(0, MAX_REDACTED_TEXT)}… [${text.length - MAX_REDACTED_TEXT} more characters cut]`;
    }
    return this.redactWhole(text);
  }

  private redactWhole(text: string): string {
    // Without a backslash or a percent sign the text is its own canonical spelling (the common case): skip the copy.
    const spelled = text.includes('\\') || text.includes('%') ? canonical(text) : undefined;
    if (spelled === undefined) return this.replaceSpans(text, this.find(text, (at) => at, (at, length) => at + length));
    return this.replaceSpans(
      text,
      this.find(
        spelled.text,
        (at) => spelled.start[at] ?? 0,
        (at, length) => spelled.end[at + length - 1] ?? text.length,
      ),
    );
  }

  /** Where each secret occurs in `haystack`, as spans of the original text. */
  private find(haystack: string, startOf: (at: number) => number, endOf: (at: number, length: number) => number): Array<[number, number]> {
    const spans: Array<[number, number]> = [];
    for (const needle of this.needles) {
      for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + needle.length)) spans.push([startOf(at), endOf(at, needle.length)]);
    }
    return spans;
  }

  private replaceSpans(text: string, spans: Array<[number, number]>): string {
    if (spans.length === 0) return text;
    spans.sort((a, b) => a[0] - b[0]);
    let result = '';
    let copied = 0;
    for (const [from, to] of spans) {
      if (to <= copied) continue;
      if (from >= copied) result += text.slice(copied, from) + REDACTED;
      copied = to;
    }
    return result + text.slice(copied);
  }
}

/**
 * A prompt's size in tokens without the tokenizer's tables: admission reserves tokens per minute and budget with it on
 * every request, and loading o200k's ranks for that cost ~70 MB of every process and a few hundred µs a request,
 * for a figure that is settled against the provider's reported usage once the answer is in. Exact counting
 * (src/providers/tokenizer.ts) stays where a count is the answer: usage a provider did not report, the local provider,
 * count_tokens, and routing by context length close to an endpoint's limit.
 *
 * One pass over the characters, no allocation. It leans high rather than low (a reservation too small lets a burst
 * past a tokens-per-minute limit), by word-shaped runs: a run of ASCII letters is a token per 6 letters (English words
 * are mostly one o200k token each), a run of digits a token per 3 (o200k splits numbers in threes), every other ASCII
 * character (punctuation, a space not before a word) a token, and a non-ASCII character a token per its UTF-8 bytes
 * beyond the first, at least one (CJK is about one token a character; accented Latin letters mostly join their word).
 */
export function estimateTokensWithoutTables(text: string): number {
  let tokens = 0;
  /** The current word's weight: a character per ASCII letter, two per two-byte letter (Cyrillic, Greek, accented Latin). */
  let word = 0;
  let lowerLast = false;
  let digits = 0;
  let spaces = 0;
  let punctuation = 0;
  const length = text.length;
  const endWord = (): void => {
    if (word > 0) (tokens += Math.ceil(word / WORD_CHARS_PER_TOKEN)), (word = 0);
    lowerLast = false;
  };
  const endRuns = (): void => {
    if (digits > 0) (tokens += Math.ceil(digits / 3)), (digits = 0);
    if (spaces > 0) (tokens += Math.ceil(spaces / SPACES_PER_TOKEN)), (spaces = 0);
    if (punctuation > 0) (tokens += Math.ceil(punctuation / 2)), (punctuation = 0);
  };
  for (let index = 0; index < length; index++) {
    const code = text.charCodeAt(index);
    if (code >= 97 && code <= 122) {
      if (word === 0) endRuns();
      word++;
      lowerLast = true;
    } else if (code >= 65 && code <= 90) {
      // o200k's pieces start again where an upper-case letter follows a lower-case one (camelCase, base64).
      if (lowerLast) endWord();
      if (word === 0) endRuns();
      word++;
    } else if (code >= 0x80 && code < 0x800) {
      if (word === 0) endRuns();
      word += 2;
      lowerLast = false;
    } else {
      endWord();
      if (code >= 48 && code <= 57) {
        if (digits === 0) endRuns();
        digits++;
      } else if (code === 32 || code === 9 || code === 10 || code === 13) {
        // A single space before a word is part of the word's token.
        if (code === 32 && spaces === 0 && index + 1 < length && isWordStart(text.charCodeAt(index + 1))) continue;
        if (spaces === 0) endRuns();
        spaces++;
      } else if (code < 0x80) {
        if (punctuation === 0) endRuns();
        punctuation++;
      } else {
        endRuns();
        // A surrogate pair (emoji and the like) is four UTF-8 bytes, often two or three tokens; CJK about one a character.
        if (code >= 0xd800 && code <= 0xdbff) (tokens += 2), index++;
        else tokens += 1;
      }
    }
  }
  endWord();
  endRuns();
  return tokens;
}

/** o200k's English words are mostly one token each; longer or rarer ones a token per few letters. */
const WORD_CHARS_PER_TOKEN = 6;
/** Runs of spaces and newlines (indentation) are few tokens however long. */
const SPACES_PER_TOKEN = 16;

function isWordStart(code: number): boolean {
  return (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || (code >= 0x80 && code < 0x800);
}

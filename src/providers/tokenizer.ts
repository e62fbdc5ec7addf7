import { createRequire } from 'node:module';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';

/*
 * A real BPE tokenizer (OpenAI's o200k_base), from gpt-tokenizer: about a third of js-tiktoken's memory for the same
 * encoding and several times faster per call. Used for the local provider's exact usage and for estimates when a
 * provider reports none; for other vendors' models it is an approximation, which is why such usage is marked estimated.
 *
 * The library's merge step is quadratic (or worse) in the length of one pre-tokenizer piece: an unbroken run of one
 * character is one piece, and 100 KB of `aaaa…` took 16 s on the event loop; the 2 MB a message may hold would take
 * hours. So nothing here hands the library a long piece or a long text in one call:
 *
 * - Exact counts (`countTokensExact`, `encodeTokensExact`) are async. The text is cut into pieces with the library's own
 *   split regex (in a worker thread when the text is long, because one regex match over a 2 MB run of CJK letters alone
 *   takes ~190 ms); short pieces go to the library in segments; long pieces go through `mergeLongPiece`, the same
 *   lowest-rank-leftmost-first merge with a heap instead of a linear scan. Work is done in slices of a few
 *   milliseconds with a turn of the event loop between them.
 * - Estimates (`createTokenEstimator`) are synchronous and bounded in time: exact for short texts while a few
 *   milliseconds last (long pieces counted as their UTF-8 byte length, an upper bound since every token covers at least
 *   one byte), and sampled past that.
 */

/** Pieces up to this many UTF-16 units go to the library, whose merge is quadratic in a piece's bytes: 128 chars ≤ 1 ms. */
const SHORT_PIECE_CHARS = 128;
/** Short pieces are sent to the library in segments of about this many characters: ≤ ~1.5 ms even on random base64. */
const SEGMENT_CHARS = 256;
/** Up to this length the split regex runs on the main thread: ≤ ~6 ms even for the slowest character classes. */
const MAIN_THREAD_SPLIT_CHARS = 64 * 1024;
/**
 * Work done between two turns of the event loop by the exact counters: small, because on a busy machine a slice of CPU
 * work can take several times as long on the wall clock.
 */
const SLICE_MS = 2;

/**
 * The library caches merge results in an LRU Map of 100,000 pieces by default. Once full, every new piece evicts the
 * oldest with `keys().next()`, which walks past all the deleted entries at the front of the Map: on 2 MB of random
 * base64 (all new pieces) single 512-character segments took 30-200 ms. Whole-token pieces (most words) never reach
 * the cache, so a small one keeps the repeats that matter and the eviction cheap.
 */
const MERGE_CACHE_SIZE = 2000;

type Encoding = typeof import('gpt-tokenizer/encoding/o200k_base');

interface Library {
  countTokens: Encoding['countTokens'];
  encode: Encoding['encode'];
  decode: Encoding['decode'];
  bpeRanks: (typeof import('gpt-tokenizer/bpeRanks/o200k_base'))['default'];
  splitRegex: RegExp;
}

let loaded: Library | undefined;

/**
 * The library and its o200k tables, loaded on first use: they are ~70 MB of a process's memory, which a gateway
 * holds for nothing until a request needs a count (and a process that only serves the catalog never does). Loaded
 * synchronously (the CommonJS build, through require) because the estimators are synchronous.
 */
function library(): Library {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  const encoding = require('gpt-tokenizer/encoding/o200k_base') as Encoding;
  const ranks = require('gpt-tokenizer/bpeRanks/o200k_base') as typeof import('gpt-tokenizer/bpeRanks/o200k_base');
  const constants = require('gpt-tokenizer/encodingParams/constants') as typeof import('gpt-tokenizer/encodingParams/constants');
  encoding.setMergeCacheSize(MERGE_CACHE_SIZE);
  loaded = { countTokens: encoding.countTokens, encode: encoding.encode, decode: encoding.decode, bpeRanks: ranks.default, splitRegex: constants.O200K_TOKEN_SPLIT_REGEX };
  return loaded;
}

function libraryCount(text: string, options: typeof NO_SPECIAL): number {
  return library().countTokens(text, options);
}

/** Special-token text such as `<|endoftext|>` in a prompt is ordinary text to count, not an error or a control token. */
const NO_SPECIAL = { disallowedSpecial: new Set<string>() };
const NONE = 0x7fffffff;

// ---------------------------------------------------------------------------------------------------------------
// No synchronous exact count is exported on purpose: on an unbroken run it is what blocked the event loop.

/** Decoding is linear in the tokens, so it stays synchronous (local/echo decodes at most maxTokens of them). */
export function decodeTokens(tokens: number[]): string {
  return library().decode(tokens);
}

// ---------------------------------------------------------------------------------------------------------------
// Rank table for long pieces

interface RankTable {
  /** Two-byte tokens by (first << 8 | second): every pair of a piece is looked up once before any merge. */
  pairRanks: Int32Array;
  /** Longer tokens by a 30-bit hash of their bytes; each hit is checked against the token's bytes (tokenBytes). */
  byHash: Map<number, number>;
  /** The few tokens whose hash another token already has, by their bytes as a latin1 string. */
  collisions: Map<string, number>;
  /** Every token's bytes, back to back; token r is tokenBytes[offsets[r] .. offsets[r + 1]). */
  tokenBytes: Uint8Array;
  offsets: Int32Array;
  maxTokenBytes: number;
}

/**
 * A 30-bit hash of bytes[start..end) (FNV-1a, folded), computed without allocating: it stays a small integer, so neither
 * the hash nor the Map lookup boxes a number. A long piece makes millions of lookups, and string or 53-bit keys filled
 * the young generation fast enough that its collections alone blocked the loop for 50-200 ms on a busy machine. The ~20
 * tokens whose hash another token already has are looked up by string instead (RankTable.collisions).
 */
function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let hash = 0x811c9dc5 ^ (end - start);
  for (let index = start; index < end; index++) hash = Math.imul(hash ^ bytes[index]!, 0x01000193);
  return (hash ^ (hash >>> 30)) & 0x3fffffff;
}

let rankTable: RankTable | undefined;

/**
 * Byte sequence → rank, built from the library's public rank data (the library keeps its own table private). Costs
 * ~15 MB and ~150 ms, paid by the first long piece (or by warmTokenizer, which tests and benchmarks call).
 */
function rankTableOf(): RankTable {
  if (rankTable) return rankTable;
  const encoded = library().bpeRanks.map((value) => (value === undefined ? undefined : typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value)));
  const offsets = new Int32Array(encoded.length + 1);
  for (let rank = 0; rank < encoded.length; rank++) offsets[rank + 1] = offsets[rank]! + (encoded[rank]?.length ?? 0);
  const tokenBytes = new Uint8Array(offsets[encoded.length]!);
  const pairRanks = new Int32Array(65_536).fill(NONE);
  const byHash = new Map<number, number>();
  const collisions = new Map<string, number>();
  let maxTokenBytes = 0;
  encoded.forEach((bytes, rank) => {
    // The data holds a token as text when its bytes are valid UTF-8, otherwise as the bytes.
    if (bytes === undefined) return;
    tokenBytes.set(bytes, offsets[rank]);
    if (bytes.length === 2) pairRanks[(bytes[0]! << 8) | bytes[1]!] = rank;
    const hash = hashBytes(bytes, 0, bytes.length);
    if (byHash.has(hash)) collisions.set(bytes.toString('latin1'), rank);
    else byHash.set(hash, rank);
    if (bytes.length > maxTokenBytes) maxTokenBytes = bytes.length;
  });
  rankTable = { pairRanks, byHash, collisions, tokenBytes, offsets, maxTokenBytes };
  return rankTable;
}

/** The rank of bytes[start..end) as one token, or NONE. */
function rankOfBytes(table: RankTable, bytes: Buffer, start: number, end: number): number {
  const length = end - start;
  if (length === 2) return table.pairRanks[(bytes[start]! << 8) | bytes[start + 1]!]!;
  if (length > table.maxTokenBytes) return NONE;
  const rank = table.byHash.get(hashBytes(bytes, start, end));
  if (rank !== undefined) {
    const from = table.offsets[rank]!;
    if (table.offsets[rank + 1]! - from === length) {
      let same = true;
      for (let index = 0; index < length && same; index++) same = table.tokenBytes[from + index] === bytes[start + index];
      if (same) return rank;
    }
  }
  return table.collisions.size === 0 ? NONE : (table.collisions.get(bytes.toString('latin1', start, end)) ?? NONE);
}

interface Scratch {
  next: Int32Array;
  prev: Int32Array;
  pairRank: Int32Array;
  heap: Int32Array;
  heapIndex: Int32Array;
}

/**
 * The merge's arrays, kept between merges (which run one at a time, see longPieceTurn) and dropped after a quiet
 * minute: allocating ~40 MB of fresh arrays per 2 MB prompt set off GC for external memory pressure, and on a busy
 * machine those pauses alone came near 50 ms.
 */
let scratch: Scratch | undefined;
let scratchTimer: NodeJS.Timeout | undefined;

function* scratchFor(n: number): Generator<undefined, Scratch> {
  if (scratchTimer) clearTimeout(scratchTimer);
  scratchTimer = setTimeout(() => (scratch = undefined), 60_000);
  scratchTimer.unref();
  if (scratch && scratch.next.length >= n) return scratch;
  scratch = undefined;
  // Each allocation zero-fills up to 24 MB: a turn of the event loop between them keeps every step short.
  const next = new Int32Array(n);
  yield undefined;
  const prev = new Int32Array(n);
  yield undefined;
  const pairRank = new Int32Array(n);
  yield undefined;
  const heap = new Int32Array(n);
  yield undefined;
  const heapIndex = new Int32Array(n);
  yield undefined;
  scratch = { next, prev, pairRank, heap, heapIndex };
  return scratch;
}

/**
 * Byte-pair merge of one pre-tokenizer piece with the library's exact rule (repeatedly merge the adjacent pair whose
 * merged bytes have the lowest rank, the leftmost on a tie, until no merged pair is a token), in O(n log n): parts are
 * a linked list over byte offsets and the candidate pairs an indexed min-heap keyed by (rank, offset), so the heap's
 * top is always the pair the library's linear scan would pick. A generator so the caller can pause between batches.
 * Memory: five Int32Arrays of the piece's byte length (20 bytes per byte), reused between calls.
 */
export function* mergeLongPiece(piece: string): Generator<undefined, number[]> {
  const table = rankTableOf();
  const bytes = Buffer.from(piece, 'utf8');
  const n = bytes.length;
  const lookup = (start: number, end: number): number => rankOfBytes(table, bytes, start, end);
  // As the library does: a piece that is itself a token is that token, whatever the merges would give.
  const whole = lookup(0, n);
  if (whole !== NONE) return [whole];
  const { next, prev, pairRank, heap, heapIndex } = yield* scratchFor(n);
  for (let index = 0; index < n; index++) {
    heapIndex[index] = -1;
    if ((index & 0x3ffff) === 0x3ffff) yield undefined;
  }
  let size = 0;

  const rankOf = (start: number): number => {
    const middle = next[start]!;
    if (middle >= n) return NONE;
    return lookup(start, next[middle]!);
  };
  const less = (a: number, b: number): boolean => pairRank[a]! < pairRank[b]! || (pairRank[a] === pairRank[b] && a < b);
  const place = (at: number, part: number): void => {
    heap[at] = part;
    heapIndex[part] = at;
  };
  const siftUp = (at: number): void => {
    const part = heap[at]!;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (!less(part, heap[parent]!)) break;
      place(at, heap[parent]!);
      at = parent;
    }
    place(at, part);
  };
  const siftDown = (at: number): void => {
    const part = heap[at]!;
    for (;;) {
      let child = 2 * at + 1;
      if (child >= size) break;
      if (child + 1 < size && less(heap[child + 1]!, heap[child]!)) child++;
      if (!less(heap[child]!, part)) break;
      place(at, heap[child]!);
      at = child;
    }
    place(at, part);
  };
  const remove = (part: number): void => {
    const at = heapIndex[part]!;
    if (at < 0) return;
    heapIndex[part] = -1;
    size--;
    if (at === size) return;
    const last = heap[size]!;
    place(at, last);
    siftDown(at);
    siftUp(heapIndex[last]!);
  };
  /** Sets a part's pair rank and moves it in (or out of) the heap. */
  const update = (part: number): void => {
    const rank = rankOf(part);
    if (rank === NONE) {
      remove(part);
      pairRank[part] = NONE;
      return;
    }
    pairRank[part] = rank;
    const at = heapIndex[part]!;
    if (at < 0) {
      place(size, part);
      size++;
      siftUp(size - 1);
    } else {
      siftUp(at);
      siftDown(heapIndex[part]!);
    }
  };

  for (let index = 0; index < n; index++) {
    next[index] = index + 1;
    prev[index] = index - 1;
    if ((index & 0x3ffff) === 0x3ffff) yield undefined;
  }
  for (let index = 0; index < n; index++) {
    pairRank[index] = rankOf(index);
    if (pairRank[index] !== NONE) place(size++, index);
    if ((index & 0x3fff) === 0x3fff) yield undefined;
  }
  // Heapify bottom-up: O(n).
  for (let at = (size >> 1) - 1; at >= 0; at--) {
    siftDown(at);
    if ((at & 0x3fff) === 0) yield undefined;
  }

  let merges = 0;
  while (size > 0) {
    const part = heap[0]!;
    const absorbed = next[part]!;
    remove(absorbed);
    const after = next[absorbed]!;
    next[part] = after;
    if (after < n) prev[after] = part;
    update(part);
    const before = prev[part]!;
    if (before >= 0) update(before);
    if ((++merges & 0x1ff) === 0) yield undefined;
  }

  const tokens: number[] = [];
  for (let start = 0; start < n; start = next[start]!) {
    // A single byte is always a token; a longer part exists only because its merge had a rank.
    const rank = lookup(start, next[start]!);
    if (rank === NONE) throw new Error('BPE merge produced a part that is not a token');
    tokens.push(rank);
    if ((tokens.length & 0xfff) === 0) yield undefined;
  }
  return tokens;
}

// ---------------------------------------------------------------------------------------------------------------
// Pre-tokenizer split, on the main thread for short text and in a worker for long text

function splitPattern(): RegExp {
  // A fresh copy: the library's regex is global and stateful (lastIndex).
  const { splitRegex } = library();
  return new RegExp(splitRegex.source, splitRegex.flags);
}

function pieceEndsSync(text: string): Int32Array {
  const pattern = splitPattern();
  const ends: number[] = [];
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    // The pattern never matches empty text; this only guards against a future one that could loop forever.
    if (match[0] === '') pattern.lastIndex++;
    else ends.push(pattern.lastIndex);
  }
  return Int32Array.from(ends);
}

/** Plain JavaScript so the worker needs no TypeScript loader; it only runs the split regex it is sent. */
const SPLIT_WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', ({ id, text, source, flags }) => {
  try {
    const pattern = new RegExp(source, flags);
    const ends = [];
    for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
      if (match[0] === '') pattern.lastIndex++;
      else ends.push(pattern.lastIndex);
    }
    const out = Int32Array.from(ends);
    parentPort.postMessage({ id, ends: out }, [out.buffer]);
  } catch (error) {
    parentPort.postMessage({ id, error: String(error) });
  }
});`;

interface SplitReply {
  id: number;
  ends?: Int32Array;
  error?: string;
}

let splitWorker: Worker | undefined;
let nextSplitId = 0;
const pendingSplits = new Map<number, { resolve: (ends: Int32Array) => void; reject: (error: Error) => void }>();

function worker(): Worker {
  if (splitWorker) return splitWorker;
  const created = new Worker(SPLIT_WORKER_SOURCE, { eval: true });
  // An idle worker must not keep the process (or a test run) alive.
  created.unref();
  created.on('message', (reply: SplitReply) => {
    const pending = pendingSplits.get(reply.id);
    if (!pending) return;
    pendingSplits.delete(reply.id);
    if (reply.ends) pending.resolve(reply.ends);
    else pending.reject(new Error(`tokenizer split failed: ${reply.error ?? 'unknown error'}`));
  });
  const fail = (error: Error): void => {
    if (splitWorker === created) splitWorker = undefined;
    for (const [id, pending] of pendingSplits) {
      pendingSplits.delete(id);
      pending.reject(error);
    }
  };
  created.on('error', fail);
  created.on('exit', (code) => fail(new Error(`tokenizer worker exited with code ${code}`)));
  splitWorker = created;
  return created;
}

async function pieceEnds(text: string): Promise<Int32Array> {
  if (text.length <= MAIN_THREAD_SPLIT_CHARS) return pieceEndsSync(text);
  const id = nextSplitId++;
  const pattern = splitPattern();
  return new Promise<Int32Array>((resolve, reject) => {
    pendingSplits.set(id, { resolve, reject });
    worker().postMessage({ id, text, source: pattern.source, flags: pattern.flags });
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Exact, asynchronous

/** Long-piece merges hold 20 bytes per byte of the piece; one at a time bounds that to ~120 MB for a 2 MB message. */
let longPieceTurn: Promise<void> = Promise.resolve();

function isWhitespace(code: number): boolean {
  return code === 32 || (code >= 9 && code <= 13) || code === 0x85 || code === 0xa0 || code === 0x1680 || (code >= 0x2000 && code <= 0x200a) || code === 0x2028 || code === 0x2029 || code === 0x202f || code === 0x205f || code === 0x3000 || code === 0xfeff;
}

/**
 * Feeds every token of `text`, in order, to `sink` (which returns true to stop early), yielding to the event loop
 * between slices of work.
 *
 * Why segments are exact: the split regex has no lookbehind and one lookahead, `\s+(?!\S)`. A segment cut at a piece
 * boundary whose preceding character is not whitespace re-splits into exactly the same pieces: a match ending before
 * the cut reads only text before it, except a path that runs into the cut, which fails at the end of input as it
 * failed on the following text, unless it is `\s+(?!\S)` ending on whitespace, which the rule excludes. After a
 * whitespace-ending piece the segment is not cut; pieces that must be sent on their own (before a long piece) are
 * each a whole match, which the same argument shows the library splits into itself.
 */
async function forEachToken(text: string, sink: (tokens: number[] | null, count: number) => boolean, signal?: AbortSignal, countOnly = false): Promise<void> {
  // Counting needs no token arrays: fewer allocations, less GC on a 2 MB text.
  const run = (segment: string): boolean => {
    if (countOnly) return sink(null, libraryCount(segment, NO_SPECIAL));
    const tokens = library().encode(segment, NO_SPECIAL);
    return sink(tokens, tokens.length);
  };
  if (text === '') return;
  let sliceStart = performance.now();
  const pause = async (): Promise<void> => {
    if (performance.now() - sliceStart < SLICE_MS) return;
    await nextTurn();
    signal?.throwIfAborted();
    sliceStart = performance.now();
  };

  const ends = await pieceEnds(text);
  signal?.throwIfAborted();
  sliceStart = performance.now();

  let segmentStart = 0;
  /** End of the pending segment's last piece that ends in a non-whitespace character: a safe place to cut. */
  let safeEnd = 0;
  /** Ends of the pending pieces after safeEnd. */
  let unsafeEnds: number[] = [];
  let pieceStart = 0;

  const flush = (upTo: number): boolean => {
    // The safe part in one library call, the rest piece by piece.
    if (safeEnd > segmentStart && run(text.slice(segmentStart, safeEnd))) return true;
    let start = safeEnd > segmentStart ? safeEnd : segmentStart;
    for (const end of unsafeEnds) {
      if (run(text.slice(start, end))) return true;
      start = end;
    }
    segmentStart = upTo;
    safeEnd = upTo;
    unsafeEnds = [];
    return false;
  };

  for (let index = 0; index < ends.length; index++) {
    const end = ends[index]!;
    if (end - pieceStart > SHORT_PIECE_CHARS) {
      if (flush(pieceStart)) return;
      const piece = text.slice(pieceStart, end);
      const previous = longPieceTurn;
      let release = (): void => {};
      longPieceTurn = new Promise<void>((resolve) => (release = resolve));
      try {
        await previous;
        const merge = mergeLongPiece(piece);
        let step = merge.next();
        while (!step.done) {
          await pause();
          step = merge.next();
        }
        if (sink(step.value, step.value.length)) return;
      } finally {
        release();
      }
      segmentStart = end;
      safeEnd = end;
    } else if (!isWhitespace(text.charCodeAt(end - 1))) {
      safeEnd = end;
      unsafeEnds = [];
      if (end - segmentStart >= SEGMENT_CHARS) {
        if (flush(end)) return;
        await pause();
      }
    } else {
      unsafeEnds.push(end);
    }
    pieceStart = end;
    if ((index & 255) === 0) await pause();
  }
  flush(text.length);
}

/** The exact token count of any text, without holding the event loop for more than a few milliseconds at a time. */
export async function countTokensExact(text: string, signal?: AbortSignal): Promise<number> {
  let total = 0;
  await forEachToken(
    text,
    (_tokens, count) => {
      total += count;
      return false;
    },
    signal,
    true,
  );
  return total;
}

/** The exact tokens of a text; with `limit`, stops once it has more than `limit` of them (enough to cut at the limit). */
export async function encodeTokensExact(text: string, limit = Number.POSITIVE_INFINITY, signal?: AbortSignal): Promise<number[]> {
  const all: number[] = [];
  await forEachToken(
    text,
    (tokens) => {
      for (const token of tokens ?? []) all.push(token);
      return all.length > limit;
    },
    signal,
  );
  return all;
}

// ---------------------------------------------------------------------------------------------------------------
// Estimates, synchronous and bounded

export interface TokenEstimator {
  /** An estimate of the text's tokens, in bounded time whatever the text. */
  count(text: string): number;
}

/** Tokenizes `text` piece by piece, except pieces longer than SHORT_PIECE_CHARS, which count as their UTF-8 bytes. */
function countPiecewise(text: string): number {
  const pattern = splitPattern();
  let total = 0;
  let segmentStart = 0;
  let pieceStart = 0;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    if (match[0] === '') {
      pattern.lastIndex++;
      continue;
    }
    const end = pattern.lastIndex;
    if (end - pieceStart > SHORT_PIECE_CHARS) {
      if (pieceStart > segmentStart) total += libraryCount(text.slice(segmentStart, pieceStart), NO_SPECIAL);
      // Every token covers at least one byte: an upper bound, and the run is not given to the quadratic merge.
      total += Buffer.byteLength(text.slice(pieceStart, end), 'utf8');
      segmentStart = end;
    }
    pieceStart = end;
  }
  if (text.length > segmentStart) total += libraryCount(text.slice(segmentStart), NO_SPECIAL);
  return total;
}

/** Texts up to this length are counted exactly while the estimator has time; longer ones are sampled. */
const ESTIMATE_EXACT_CHARS = 1024;
/** How long one estimator may spend tokenizing: the library takes ~5 µs a character on random base64. */
const ESTIMATE_BUDGET_MS = 8;
/** Windows sampled from a long text, spread over it so a prompt that changes language midway is seen. */
const SAMPLE_WINDOWS = 8;
const SAMPLE_WINDOW_CHARS = 128;

/**
 * One estimator per request, so that the work is bounded per request, not per message. Short texts are tokenized
 * (long unbroken runs counting as bytes, an upper bound) while the estimator's time budget lasts, and always the first
 * one, so small prompts get exact estimates; a long text is estimated from windows sampled across it, at the
 * tokens-per-character rate of everything counted so far. Bounded work: about ESTIMATE_BUDGET_MS plus one short text
 * per request. Not a bound either way for long prompts, but close: callers use it to reserve rate limits and budgets
 * and to route by context length, where a 4x overestimate (bytes for English) would refuse requests that fit.
 */
export function createTokenEstimator(): TokenEstimator {
  const deadline = performance.now() + ESTIMATE_BUDGET_MS;
  let countedChars = 0;
  let countedTokens = 0;
  const counting = (): boolean => countedChars === 0 || performance.now() < deadline;
  return {
    count(text) {
      if (text === '') return 0;
      if (text.length <= ESTIMATE_EXACT_CHARS && counting()) {
        const tokens = countPiecewise(text);
        countedChars += text.length;
        countedTokens += tokens;
        return tokens;
      }
      if (counting()) {
        const window = Math.min(SAMPLE_WINDOW_CHARS, Math.floor(text.length / SAMPLE_WINDOWS));
        for (let index = 0; index < SAMPLE_WINDOWS; index++) {
          const start = Math.floor((index * (text.length - window)) / (SAMPLE_WINDOWS - 1));
          countedTokens += countPiecewise(text.slice(start, start + window));
          countedChars += window;
        }
      }
      return Math.ceil((countedTokens / countedChars) * text.length);
    },
  };
}

/** Builds the encoder's tables and the long-piece rank table now, so the first request does not pay for them. */
export function warmTokenizer(): void {
  // Text of every character class the split regex knows, so its first real use does not compile or load anything.
  const sample = 'Warm up: naïve café, 数据 😀, 1234 <|endoftext|> \n\t '.repeat(64);
  library().encode(sample, NO_SPECIAL);
  createTokenEstimator().count(sample);
  rankTableOf();
  // Compiles the long-piece merge, and starts the split worker: spawning one costs the main thread tens of ms, which
  // the first long prompt would otherwise pay in one block.
  const merge = mergeLongPiece('数a'.repeat(200));
  while (!merge.next().done);
  worker();
}

import { randomBytes } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { encode } from 'gpt-tokenizer/encoding/o200k_base';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countTokensExact, createTokenEstimator, encodeTokensExact, mergeLongPiece } from '../../src/providers/tokenizer.js';
import type { FakeUpstream } from '../conformance/harness.js';
import { FAKE_OPENAI_KEY, startFakeOpenAI } from '../fakes/openai.js';
import { startTestServer, type TestServer } from '../helpers/app.js';

/**
 * No accepted input may hold the event loop for more than 50 ms. The tokenizer's merge is quadratic or worse in one
 * pre-tokenizer piece, and an unbroken run of one character is one piece: before the fix, 100 KB of `aaaa…` to
 * local/echo blocked the loop for 16 s, and 20 KB of `é` for 2.6 s. Each case sends a 2 MB message through a path
 * that counts or estimates tokens and measures the longest block with monitorEventLoopDelay.
 */
const LIMIT_MS = 50;
const ADMIN = 'sb-admin-event-loop-0123456789';

const INPUTS: Array<[string, string]> = [
  ['2 MB of one ASCII letter', 'a'.repeat(2_000_000)],
  ['2 MB of one CJK letter (3 bytes each)', '数'.repeat(700_000)],
  ['2 MB of random base64', randomBytes(1_500_000).toString('base64')],
];

interface Block {
  /** The longest event-loop delay monitorEventLoopDelay saw while the request ran (wall clock), in ms. */
  wall: number;
  /**
   * The longest delay counted in CPU time: for each gap between two 5 ms ticks, the CPU the whole process used in it
   * (all threads, so never less than what the event loop's thread did), capped by the gap itself.
   */
  cpu: number;
}

/**
 * The longest event-loop block while `run` runs. The wall-clock figure is what a client waits; but this machine is
 * shared (load 8-13 on 2 cores while this was written), and a process that is merely descheduled shows gaps of
 * 100-300 ms with nothing running. A block is the event loop's thread busy, so the limit is checked on CPU time used
 * during each gap, which descheduling does not inflate and other threads can only overstate. Before the fix these
 * paths blocked for seconds (100 KB) to hours (2 MB), by either measure.
 */
async function longestBlock(run: () => Promise<void>): Promise<Block> {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  // The first tick after enable() only sets the baseline: a block before it would go unrecorded.
  await sleep(40);
  let cpu = 0;
  let lastWall = performance.now();
  let lastCpu = process.cpuUsage();
  const ticker = setInterval(() => {
    const wall = performance.now();
    const used = process.cpuUsage(lastCpu);
    cpu = Math.max(cpu, Math.min(wall - lastWall, (used.user + used.system) / 1000));
    lastWall = wall;
    lastCpu = process.cpuUsage();
  }, 5);
  await run();
  await sleep(30);
  clearInterval(ticker);
  histogram.disable();
  return { wall: Math.round(histogram.max / 1e6), cpu: Math.round(cpu) };
}

describe('event loop: no prompt blocks it for more than 50 ms', () => {
  let server: TestServer;
  let fake: FakeUpstream;
  let limitedKey: string;
  const stalls: string[] = [];

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    server = await startTestServer({ SWITCHBOARD_ADMIN_KEY: ADMIN, OPENAI_API_KEY: FAKE_OPENAI_KEY, OPENAI_BASE_URL: fake.url, SWITCHBOARD_MAX_RETRIES: '0' });
    const created = await server.graphql<{ createApiKey: { secret: string } }>(
      'mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret } }',
      { input: { name: 'limited', scopes: ['COMPLETIONS'], rateLimit: { tokensPerMinute: 1_000_000_000 }, budget: { limitUsd: 1_000_000 } } },
      { authorization: `Bearer ${ADMIN}` },
    );
    limitedKey = created.data!.createApiKey.secret;
    // One long prompt first, so that what is measured is the steady state, not the first compilation of each path.
    await (await post(ADMIN, request('local/echo', 'warm '.repeat(20_000) + 'b'.repeat(200_000), false))).arrayBuffer();
  });
  afterAll(async () => {
    console.log(`longest event-loop block per path:\n  ${stalls.join('\n  ')}`);
    await server.stop();
    await fake.close();
  });

  /** The request body is built before measuring: the test's own JSON.stringify is not the gateway's block. */
  function post(key: string, body: string, signal?: AbortSignal): Promise<Response> {
    return fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body, ...(signal ? { signal } : {}) });
  }
  const request = (model: string, content: string, stream: boolean): string => JSON.stringify({ model, messages: [{ role: 'user', content }], stream });

  async function check(path: string, input: string, run: () => Promise<void>): Promise<void> {
    // CPU time counts every thread, so a GC with parallel helpers (or this process's fake upstream parsing the same
    // 2 MB in the same loop turn) can overstate one run; a real block repeats, so the best of three runs counts.
    let { wall, cpu } = await longestBlock(run);
    for (let attempt = 1; attempt < 3 && cpu >= LIMIT_MS; attempt++) {
      const again = await longestBlock(run);
      if (again.cpu < cpu) ({ wall, cpu } = again);
    }
    stalls.push(`${path}, ${input}: ${cpu} ms busy (wall clock, monitorEventLoopDelay: ${wall} ms)`);
    expect(cpu, `${path} with ${input}: longest block ${cpu} ms of CPU (${wall} ms wall clock)`).toBeLessThan(LIMIT_MS);
    // The wall clock too, loosely: scheduling noise on a busy machine is hundreds of ms, a regression is seconds.
    expect(wall, `${path} with ${input}`).toBeLessThan(1_000);
  }

  describe.each(INPUTS)('%s', (name, content) => {
    it('local/echo, not streamed: exact usage', async () => {
      const body = request('local/echo', content, false);
      let answer = new ArrayBuffer(0);
      await check('local/echo', name, async () => {
        const response = await post(ADMIN, body);
        expect(response.status).toBe(200);
        // Raw bytes: decoding and parsing 2 MB here is the test's work, not the gateway's; it is done after measuring.
        answer = await response.arrayBuffer();
      });
      const { usage } = JSON.parse(Buffer.from(answer).toString('utf8')) as { usage: { prompt_tokens: number; completion_tokens: number } };
      // Exact: what the tokenizer gives for the whole text (computed here without the library's quadratic merge).
      const exact = await countTokensExact(content);
      expect(usage).toMatchObject({ prompt_tokens: exact + 6, completion_tokens: exact });
    }, 180_000);

    it('local/echo, streamed', async () => {
      const body = request('local/echo', content, true);
      let answer = new ArrayBuffer(0);
      await check('local/echo streamed', name, async () => {
        const response = await post(ADMIN, body);
        expect(response.status).toBe(200);
        answer = await response.arrayBuffer();
      });
      expect(Buffer.from(answer).toString('utf8')).toContain('[DONE]');
    }, 180_000);

    it('admission: a key with a tokens-per-minute limit and a budget, on a priced model', async () => {
      const body = request('openai/gpt-4o-mini', content, false);
      await check('admission (tpm + budget)', name, async () => {
        // A short reply: the fake echoes by default, and its own 2 MB of work runs in this process too.
        fake.enqueue({ kind: 'text', text: 'ok', promptTokens: 10, completionTokens: 1 });
        const response = await post(limitedKey, body);
        expect(response.status).toBe(200);
        await response.arrayBuffer();
      });
    }, 180_000);

    it('a stream the upstream breaks: usage estimated', async () => {
      const body = request('openai/gpt-4o-mini', content, true);
      await check('failed stream', name, async () => {
        fake.enqueue({ kind: 'break', textBefore: 'partial answer' });
        const response = await post(ADMIN, body);
        await response.arrayBuffer().catch(() => undefined);
      });
    }, 180_000);

    it('a stream the client cancels: usage estimated', async () => {
      const body = request('openai/gpt-4o-mini', content, true);
      await check('cancelled stream', name, async () => {
        fake.enqueue({ kind: 'hang', textBefore: 'partial answer' });
        const controller = new AbortController();
        const response = await post(ADMIN, body, controller.signal);
        const reader = response.body!.getReader();
        await reader.read();
        controller.abort();
        await reader.read().catch(() => undefined);
        // The gateway estimates usage once it sees the cancellation; a block would delay this timer.
        await sleep(200);
      });
    }, 180_000);
  });
});

describe('tokenizer: exact counting in pieces is the library’s exact result', () => {
  const NO_SPECIAL = { disallowedSpecial: new Set<string>() };
  const parts = ['a', 'A', 'é', '数', '😀', ' ', '  ', '\n', '\r\n', '\t', '1', '234', '!', '?!', "'s", "'", '/', '<|endoftext|>', 'The', ' the', '\u0301', 'ǅ'];
  /** Texts made of the parts, some repeated into runs up to 400 long: long enough for the heap merge, short enough for the library. */
  const text = fc
    .array(fc.tuple(fc.constantFrom(...parts), fc.oneof({ weight: 5, arbitrary: fc.constant(1) }, fc.integer({ min: 2, max: 400 }))), { maxLength: 40 })
    .map((pieces) => pieces.map(([part, times]) => part.repeat(times)).join(''));

  it('encodeTokensExact equals the library’s encode on random texts with long runs', async () => {
    await fc.assert(
      fc.asyncProperty(text, async (input) => {
        expect(await encodeTokensExact(input)).toEqual(encode(input, NO_SPECIAL));
      }),
      { numRuns: 300, seed: 20_261_130 },
    );
  });

  it('the heap merge equals the library’s merge on runs of every kind of character', () => {
    for (const part of ['a', 'A', 'é', '数', '😀', '!', ' ', '\n', 'ab', 'xyz']) {
      const piece = part.repeat(1500 / part.length);
      const merge = mergeLongPiece(piece);
      let step = merge.next();
      while (!step.done) step = merge.next();
      expect(step.value, part).toEqual(encode(piece, NO_SPECIAL));
    }
  });

  it('stops early when asked for only the first tokens', async () => {
    const tokens = await encodeTokensExact('word '.repeat(100_000), 10);
    expect(tokens.length).toBeGreaterThan(10);
    expect(tokens.length).toBeLessThan(1000);
  });

  it('estimates are exact for short text and close for long text', () => {
    const short = 'Hello there, how are you? 数据 😀 <|endoftext|>';
    expect(createTokenEstimator().count(short)).toBe(encode(short, NO_SPECIAL).length);
    const prose = 'The quick brown fox jumps over the lazy dog, then reads RFC 9110 section 15.5.21. '.repeat(5000);
    const estimate = createTokenEstimator().count(prose);
    const exact = encode(prose).length;
    expect(Math.abs(estimate - exact) / exact).toBeLessThan(0.1);
  });
});

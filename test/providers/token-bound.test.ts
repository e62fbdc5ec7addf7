import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { reservePromptTokens } from '../../src/providers/normalize.js';
import { estimateTokensWithoutTables } from '../../src/providers/token-bound.js';
import { countTokensExact } from '../../src/providers/tokenizer.js';

/**
 * Admission reserves with the table-free estimate: it must stay close to the tokenizer's count (mostly above it, so a
 * burst cannot slip past a tokens-per-minute limit by much) and cost little however large or odd the prompt.
 */
describe('estimateTokensWithoutTables', () => {
  const texts: Array<[string, string, number, number]> = [
    ['English prose (the README)', readFileSync(new URL('../../README.md', import.meta.url), 'utf8').slice(0, 20_000), 1, 1.6],
    ['TypeScript', readFileSync(new URL('../../src/auth/admission.ts', import.meta.url), 'utf8'), 1, 1.6],
    ['JSON', readFileSync(new URL('../../package.json', import.meta.url), 'utf8'), 1, 1.6],
    ['Chinese', '数据库是一个有组织的数据集合，通常以电子方式存储在计算机系统中。'.repeat(40), 1, 2],
    ['Russian', 'Это русский текст для проверки количества токенов в сообщении. '.repeat(40), 1, 2],
    ['French', 'Le café est très apprécié à Paris, où les élèves étudient là-bas. '.repeat(40), 1, 1.6],
    ['digits', '1234567890 3.14159 2026-12-01 '.repeat(80), 0.9, 1.3],
    ['one letter repeated', 'a'.repeat(5000), 1, 2],
    ['hex', randomBytes(2000).toString('hex'), 0.8, 1.5],
    // Random base64 is the known low side: its pieces are letters o200k has few merges for.
    ['base64', randomBytes(2000).toString('base64'), 0.6, 1.5],
  ];
  for (const [name, text, low, high] of texts) {
    it(`${name}: between ${low}× and ${high}× the tokenizer's count`, async () => {
      const exact = await countTokensExact(text);
      const estimate = estimateTokensWithoutTables(text);
      expect(estimate / exact).toBeGreaterThanOrEqual(low);
      expect(estimate / exact).toBeLessThanOrEqual(high);
    });
  }

  it('short prompts are exact', async () => {
    for (const text of ['count my tokens', 'Hello! How are you today?', 'Say hi', 'What is 2+2?']) {
      expect(estimateTokensWithoutTables(text)).toBe(await countTokensExact(text));
    }
  });

  it('is 0 for nothing and at least 1 for anything', () => {
    expect(estimateTokensWithoutTables('')).toBe(0);
    for (const text of [' ', 'a', '\n', '!', '数', '😀', '7', 'é']) expect(estimateTokensWithoutTables(text)).toBeGreaterThanOrEqual(1);
  });

  it('counts 2 MB of any kind in a few milliseconds of one pass', () => {
    for (const unit of ['a', ' ', '数', '😀', 'aB3/', '\u0301']) {
      const text = unit.repeat(Math.ceil((2 * 1024 * 1024) / unit.length));
      const started = performance.now();
      const tokens = estimateTokensWithoutTables(text);
      // Generous for a shared machine: the BPE library took seconds on such runs.
      expect(performance.now() - started).toBeLessThan(200);
      expect(tokens).toBeGreaterThan(0);
    }
  });

  it('a prompt reservation counts framing, messages and tools', () => {
    const bare = reservePromptTokens({ messages: [] });
    expect(bare).toBe(3);
    const one = reservePromptTokens({ messages: [{ role: 'user', content: [{ type: 'text', text: 'count my tokens' }] }] });
    expect(one).toBe(3 + 3 + 3);
    const withTool = reservePromptTokens({
      messages: [{ role: 'user', content: [{ type: 'text', text: 'count my tokens' }] }],
      tools: [{ name: 'lookup', description: 'Looks a word up', parameters: { type: 'object', properties: { word: { type: 'string' } } } }],
    });
    expect(withTool).toBeGreaterThan(one);
  });
});

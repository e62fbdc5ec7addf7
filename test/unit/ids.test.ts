import { describe, expect, it } from 'vitest';
import { newId } from '../../src/ids.js';

describe('newId', () => {
  it('never repeats, across many refills of its random pool', () => {
    const ids = new Set<string>();
    // 10 random bytes an id, 4 KiB a pool: 50,000 ids draw the pool about 120 times.
    for (let index = 0; index < 50_000; index++) ids.add(newId('req', 0));
    expect(ids.size).toBe(50_000);
    for (const id of [...ids].slice(0, 1000)) expect(id).toMatch(/^req_0{9}[A-Za-z0-9_-]{14}$/);
  });

  it('sorts by creation time', () => {
    const earlier = newId('gen', 1_700_000_000_000);
    const later = newId('gen', 1_700_000_000_001);
    expect(earlier < later).toBe(true);
  });
});

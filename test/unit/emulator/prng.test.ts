import { describe, expect, it } from 'vitest';
import { createPrng } from '../../../src/emulator/prng.js';

function take(seed: number, n: number): number[] {
  const prng = createPrng(seed);
  return Array.from({ length: n }, () => prng.next());
}

describe('createPrng', () => {
  it('gives the same sequence for the same seed and another for another seed', () => {
    expect(take(7, 20)).toEqual(take(7, 20));
    expect(take(7, 20)).not.toEqual(take(8, 20));
  });

  it('stays in [0, 1) and spreads evenly over ten buckets', () => {
    const buckets = new Array<number>(10).fill(0);
    for (const u of take(1, 10_000)) {
      expect(u).toBeGreaterThanOrEqual(0);
      expect(u).toBeLessThan(1);
      buckets[Math.floor(u * 10)]! += 1;
    }
    for (const count of buckets) expect(count).toBeGreaterThan(900);
  });

  it('draws integers below the bound and hex strings of the asked length', () => {
    const prng = createPrng(3);
    for (let i = 0; i < 1000; i++) expect(prng.nextInt(5)).toBeLessThan(5);
    expect(prng.nextHex(32)).toMatch(/^[0-9a-f]{32}$/);
    expect(prng.nextHex(5)).toMatch(/^[0-9a-f]{5}$/);
  });
});

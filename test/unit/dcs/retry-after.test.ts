import { describe, expect, it } from 'vitest';
import { parseRetryAfter } from '../../../src/dcs/retry-after.js';

const NOW = new Date('2026-03-01T10:00:00.000Z');

describe('parseRetryAfter', () => {
  it.each([
    ['0', 0],
    ['3', 3000],
    [' 120 ', 120_000],
  ])('reads delta-seconds %j', (value, ms) => {
    expect(parseRetryAfter(value, NOW)).toBe(ms);
  });

  it('reads an HTTP-date relative to now', () => {
    expect(parseRetryAfter('Sun, 01 Mar 2026 10:00:05 GMT', NOW)).toBe(5000);
  });

  it('gives 0 for an HTTP-date in the past', () => {
    expect(parseRetryAfter('Sun, 01 Mar 2026 09:00:00 GMT', NOW)).toBe(0);
  });

  it('takes the first of a repeated header', () => {
    expect(parseRetryAfter(['2', '9'], NOW)).toBe(2000);
  });

  it.each([[undefined], [''], ['-1'], ['1.5'], ['soon'], ['2026-03-01'], ['12345678901']])(
    'gives undefined for %j',
    (value) => {
      expect(parseRetryAfter(value, NOW)).toBeUndefined();
    },
  );
});

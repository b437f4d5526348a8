import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { collect, parseIntOption } from '../../../src/cli/options.js';

describe('collect', () => {
  it('gathers repeated and comma-separated values, trimmed', () => {
    expect(collect(' b , c', collect('a'))).toEqual(['a', 'b', 'c']);
  });

  it.each(['', ' ', 'a,,b', 'a,', ','])('refuses an empty item in %j instead of dropping it', (value) => {
    expect(() => collect(value, ['x'])).toThrow(InvalidArgumentError);
  });
});

describe('parseIntOption', () => {
  it('names the flag and the range in its error', () => {
    const parse = parseIntOption('--concurrency', 1, 1000);
    expect(parse('64')).toBe(64);
    expect(() => parse('0')).toThrow('--concurrency must be between 1 and 1000, got 0');
    expect(() => parse('1e3')).toThrow('--concurrency must be a whole number');
  });
});

import { InvalidArgumentError } from 'commander';
import { MAX_RATE_PER_SECOND, parseRateLimit } from '../config/rate-settings.js';

/** A commander option parser for an integer in [min, max], naming the flag in its error. */
export function parseIntOption(flag: string, min: number, max: number): (value: string) => number {
  return (value) => {
    if (!/^-?\d+$/.test(value.trim()))
      throw new InvalidArgumentError(`${flag} must be a whole number, got ${JSON.stringify(value)}`);
    const n = Number(value);
    if (n < min || n > max)
      throw new InvalidArgumentError(`${flag} must be between ${min} and ${max}, got ${n}`);
    return n;
  };
}

/** A commander parser for `--rate-limit`: `auto` or a whole number in [0, 10000]. */
export function parseRateLimitOption(value: string): number | 'auto' {
  const parsed = parseRateLimit(value);
  if (parsed === undefined) {
    throw new InvalidArgumentError(
      `--rate-limit must be auto or a whole number from 0 to ${MAX_RATE_PER_SECOND}, got ${JSON.stringify(value)}`,
    );
  }
  return parsed;
}

/** Collects a repeatable option (`--task a --task b`), also splitting comma lists. */
export function collect(value: string, previous: string[] = []): string[] {
  const items = value.split(',').map((v) => v.trim());
  // An empty item is a mistake (`--task ""`, `a,,b`), not something to drop in silence.
  if (items.some((v) => v === '')) throw new InvalidArgumentError('empty value in the list');
  return [...previous, ...items];
}

import { InvalidArgumentError } from 'commander';

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

/** Collects a repeatable option (`--task a --task b`), also splitting comma lists. */
export function collect(value: string, previous: string[] = []): string[] {
  const items = value.split(',').map((v) => v.trim());
  // An empty item is a mistake (`--task ""`, `a,,b`), not something to drop in silence.
  if (items.some((v) => v === '')) throw new InvalidArgumentError('empty value in the list');
  return [...previous, ...items];
}

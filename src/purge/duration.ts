import { CleanupError } from '../errors.js';

const UNITS_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Parses `90s`, `15m`, `12h`, `7d`, `2w` (or combinations like `1d12h`) to milliseconds. */
export function parseDuration(text: string, field: string): number {
  const value = text.trim();
  const parts = [...value.matchAll(/(\d+)([smhdw])/g)];
  if (value === '' || parts.map((p) => p[0]).join('') !== value) {
    throw new CleanupError(
      'INVALID_INPUT',
      `${field}: expected a duration like 30m, 12h or 7d, got ${JSON.stringify(text.slice(0, 40))}`,
      { field },
    );
  }
  const ms = parts.reduce((sum, [, n, unit]) => sum + Number(n) * UNITS_MS[unit!]!, 0);
  if (ms <= 0 || !Number.isSafeInteger(ms)) {
    throw new CleanupError('INVALID_INPUT', `${field}: duration must be positive`, { field });
  }
  return ms;
}

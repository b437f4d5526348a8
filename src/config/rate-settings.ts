/**
 * The rate section of the configuration schema (src/config/config.ts spreads it in): a fixed
 * request rate, or `auto` with its AIMD settings (src/queue/rate-control/).
 */
import { z } from 'zod';
import { intFrom } from './schema-parts.js';

/** The largest fixed rate (and the ceiling of the automatic one). */
export const MAX_RATE_PER_SECOND = 10_000;

/** `auto`, or a whole number of requests per second in [0, 10000]; pure, for the CLI flag too. */
export function parseRateLimit(value: string): number | 'auto' | undefined {
  const v = value.trim();
  if (v === 'auto') return 'auto';
  if (!/^\d{1,9}$/.test(v)) return undefined;
  const n = Number(v);
  return n <= MAX_RATE_PER_SECOND ? n : undefined;
}

/** A decimal number in (0, 1); unset means `def`. */
const fractionFrom = (def: number) =>
  z
    .string()
    .trim()
    .regex(/^0?\.\d{1,6}$/, 'must be a decimal between 0 and 1, such as 0.95')
    .transform(Number)
    .pipe(z.number().gt(0).lt(1))
    .default(def);

export const rateSchemaShape = {
  WORKER_RATE_LIMIT: z
    .string()
    .default('50')
    .transform((v, ctx) => {
      const parsed = parseRateLimit(v);
      if (parsed === undefined) {
        ctx.addIssue({
          code: 'custom',
          message: `must be auto or a whole number from 0 to ${MAX_RATE_PER_SECOND}`,
        });
        return z.NEVER;
      }
      return parsed;
    })
    .describe(
      'DCS DELETEs per second across all workers of this prefix (smooth spacing, shared through Redis); 0 turns the limit off; auto finds the limit (WORKER_RATE_AUTO_*).',
    ),
  WORKER_RATE_AUTO_START: intFrom(50, 1, MAX_RATE_PER_SECOND).describe(
    'auto: the rate (per second) a deployment starts from when Redis holds none yet.',
  ),
  WORKER_RATE_AUTO_MIN: intFrom(1, 1, MAX_RATE_PER_SECOND).describe(
    'auto: the rate is never cut below this.',
  ),
  WORKER_RATE_AUTO_MAX: intFrom(1_000, 1, MAX_RATE_PER_SECOND).describe(
    'auto: the rate never rises above this.',
  ),
  WORKER_RATE_AUTO_STEP: intFrom(4, 1, 1_000).describe(
    'auto: after a 429 the rate climbs back to 98% of where it was cut by half the gap a second (at least this many requests/s), then probes above by half this a second; before the first 429 it grows 25% a second.',
  ),
  WORKER_RATE_AUTO_CUT: fractionFrom(0.9).describe(
    'auto: the second 429 within a second (or 1% of the rate, if more) multiplies the rate by this, once per cooldown.',
  ),
  WORKER_RATE_AUTO_COOLDOWN_MS: intFrom(1_000, 0, 600_000).describe(
    'auto: after a cut, 429s for this long cut nothing more (they answer requests sent at the old rate).',
  ),
};

/**
 * The gateway's flow control: a SLIDING window per access key and per API (delete, list tasks, list
 * instances), per second or per minute. A call is refused (429 APIGW.0308, no Retry-After) when the
 * key has had `limit` accepted calls of that API within the last window; refused calls do not count.
 * The worker is never told the limit: tests and benchmarks set it (option, CLI flag, or
 * POST /__emulator/rate-limit) and read it back (GET). `accessKeys` gives some keys another limit
 * (Huawei's limits differ per account): a test can throttle one account and not another.
 */
import { z } from 'zod';
import { buildInputError } from './state-file.js';

export const RATE_WINDOWS = ['second', 'minute'] as const;
export type RateWindow = (typeof RATE_WINDOWS)[number];

const settingsSchema = z
  .object({
    /** Accepted calls per window, per access key and API; 0 turns throttling off. */
    limit: z.number().int().min(0).max(1_000_000),
    per: z.enum(RATE_WINDOWS).optional(),
    /** A limit per access key, instead of `limit`, for the keys named (0: that key unthrottled). */
    accessKeys: z.record(z.string().min(1), z.number().int().min(0).max(1_000_000)).optional(),
  })
  .strict();

export interface RateLimitSettings {
  limit: number;
  /** Default `second`. */
  per?: RateWindow;
  /** Another limit for the access keys named (same window); the others keep `limit`. */
  accessKeys?: Readonly<Record<string, number>>;
}

/** The settings in force: `per` resolved; `accessKeys` only when some key has its own limit. */
export type ActiveRateLimit = Required<Pick<RateLimitSettings, 'limit' | 'per'>> &
  Pick<RateLimitSettings, 'accessKeys'>;

export interface RateLimiter {
  /** Counts one call of `route` by `accessKeyId`; false when it is over the limit (the call is refused). */
  take(accessKeyId: string, route: string): boolean;
  /** The gateway's message for a call of `accessKeyId` refused: `policy user over ratelimit, limit:XX, time:1 second`. */
  refusalMessage(accessKeyId?: string): string;
  settings(): ActiveRateLimit;
  /** Replaces the limit (validated) and forgets every window. */
  set(settings: RateLimitSettings): void;
  reset(): void;
}

/** Validates settings from code or JSON; INVALID_INPUT naming the field. */
export function parseRateLimitSettings(input: unknown): ActiveRateLimit {
  const result = settingsSchema.safeParse(input);
  if (!result.success) throw buildInputError('rate limit', result.error);
  const { limit, per, accessKeys } = result.data;
  return {
    limit,
    per: per ?? 'second',
    ...(accessKeys === undefined ? {} : { accessKeys: { ...accessKeys } }),
  };
}

/** Accepted-call times of one key and API, oldest first (a queue with a moving head). */
interface Window {
  times: number[];
  head: number;
}

export function createRateLimiter(initial: RateLimitSettings, now: () => number): RateLimiter {
  let current = parseRateLimitSettings(initial);
  const windows = new Map<string, Window>();
  const limitOf = (accessKeyId: string): number =>
    Object.hasOwn(current.accessKeys ?? {}, accessKeyId) ? current.accessKeys![accessKeyId]! : current.limit;
  return {
    take(accessKeyId, route) {
      const { per } = current;
      const limit = limitOf(accessKeyId);
      if (limit <= 0) return true;
      const t = now();
      const since = t - (per === 'minute' ? 60_000 : 1_000);
      const key = `${accessKeyId}\n${route}`;
      let w = windows.get(key);
      if (w === undefined) windows.set(key, (w = { times: [], head: 0 }));
      while (w.head < w.times.length && w.times[w.head]! <= since) w.head++;
      if (w.head > 1024 && w.head * 2 > w.times.length) {
        w.times = w.times.slice(w.head);
        w.head = 0;
      }
      if (w.times.length - w.head >= limit) return false;
      w.times.push(t);
      return true;
    },
    refusalMessage: (accessKeyId) =>
      `The throttling threshold has been reached: policy user over ratelimit, limit:${accessKeyId === undefined ? current.limit : limitOf(accessKeyId)}, time:1 ${current.per}`,
    settings: () => ({ ...current }),
    set(settings) {
      current = parseRateLimitSettings(settings);
      windows.clear();
    },
    reset: () => windows.clear(),
  };
}

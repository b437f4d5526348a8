/**
 * Retry timing, pure. Three layers, each with its own budget:
 *  1. in-process (p-retry): a few quick retries of a transient failure inside one job run;
 *  2. BullMQ attempts: the job goes back with capped full-jitter backoff, then is dead-lettered;
 *  3. requeues that spend no attempt (throttled, busy, breaker open): bounded by `maxStarts`.
 */
import type { Config } from '../config/config.js';

export interface RetryPolicy {
  /** Extra tries inside one job run for a `retry` verdict. */
  inProcessRetries: number;
  inProcessBaseMs: number;
  inProcessCapMs: number;
  /** BullMQ attempts per job (each after the in-process retries). */
  attempts: number;
  backoffBaseMs: number;
  backoffCapMs: number;
  /** `busy` answers: wait at least this long, plus up to `busyJitterMs`. */
  busyFloorMs: number;
  busyJitterMs: number;
  /** `throttled` without Retry-After: wait between these two. */
  throttleMinMs: number;
  throttleMaxMs: number;
  /** A Retry-After longer than this is capped. */
  throttleCapMs: number;
  /** A job started more often than this (throttled or busy for ever) is dead-lettered. */
  maxStarts: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  inProcessRetries: 3,
  inProcessBaseMs: 200,
  inProcessCapMs: 3_000,
  attempts: 8,
  backoffBaseMs: 5_000,
  backoffCapMs: 300_000,
  busyFloorMs: 30_000,
  busyJitterMs: 30_000,
  throttleMinMs: 2_000,
  throttleMaxMs: 5_000,
  throttleCapMs: 60_000,
  maxStarts: 500,
};

export type Random = () => number;

/** Full jitter: uniform in [0, min(cap, base * 2^attempt)] ("Exponential Backoff And Jitter"). */
export function fullJitterMs(
  attempt: number,
  baseMs: number,
  capMs: number,
  random: Random = Math.random,
): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.round(random() * ceiling);
}

/** Delay before BullMQ retries a job that has failed `attemptsMade` times. */
export function backoffDelayMs(
  policy: RetryPolicy,
  attemptsMade: number,
  random: Random = Math.random,
): number {
  return fullJitterMs(attemptsMade - 1, policy.backoffBaseMs, policy.backoffCapMs, random);
}

/** How long the whole queue waits after a 429: Retry-After when sent (capped), else 2-5 s jittered. */
export function throttleDelayMs(
  policy: RetryPolicy,
  retryAfterMs: number | undefined,
  random: Random = Math.random,
): number {
  if (retryAfterMs !== undefined && retryAfterMs >= 0) return Math.min(retryAfterMs, policy.throttleCapMs);
  return Math.round(policy.throttleMinMs + random() * (policy.throttleMaxMs - policy.throttleMinMs));
}

/** How long a job waits after a `busy` answer. */
export function busyDelayMs(policy: RetryPolicy, random: Random = Math.random): number {
  return Math.round(policy.busyFloorMs + random() * policy.busyJitterMs);
}

/** The worker's policy from the `RETRY_*` settings; `attempts` stays the producer's (job options). */
export function buildRetryPolicy(config: Config): Omit<RetryPolicy, 'attempts'> {
  return {
    inProcessRetries: config.RETRY_IN_PROCESS_RETRIES,
    inProcessBaseMs: config.RETRY_IN_PROCESS_BASE_MS,
    inProcessCapMs: config.RETRY_IN_PROCESS_CAP_MS,
    backoffBaseMs: config.RETRY_BACKOFF_BASE_MS,
    backoffCapMs: config.RETRY_BACKOFF_CAP_MS,
    busyFloorMs: config.RETRY_BUSY_FLOOR_MS,
    busyJitterMs: config.RETRY_BUSY_JITTER_MS,
    throttleMinMs: config.RETRY_THROTTLE_MIN_MS,
    throttleMaxMs: config.RETRY_THROTTLE_MAX_MS,
    throttleCapMs: config.RETRY_THROTTLE_CAP_MS,
    maxStarts: config.RETRY_MAX_STARTS,
  };
}

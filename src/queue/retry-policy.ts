/**
 * The one retry policy. Three layers, each with its own budget:
 *  1. in-process: a few quick retries of a transient failure inside one job run, in the one retry
 *     loop (src/dcs/retry-loop.ts, which list pages use too, with the same timing);
 *  2. BullMQ attempts: the job goes back with capped full-jitter backoff (computed once, by the
 *     worker's backoff strategy), then is dead-lettered;
 *  3. requeues that spend no attempt (throttled, busy, breaker open): bounded by `maxStarts`.
 */
import type { Config } from '../config/config.js';
import {
  DEFAULT_RETRY_TIMING,
  buildRetryTiming,
  fullJitterMs,
  type Random,
  type RetryTiming,
} from '../dcs/retry-loop.js';

export interface RetryPolicy extends RetryTiming {
  /** Extra tries inside one job run for a `retry` verdict. */
  inProcessRetries: number;
  /**
   * BullMQ attempts per job: the producer's default job option (a job carries its own budget in
   * `job.opts.attempts`, which is what the worker reads, so a worker never needs this one).
   */
  attempts: number;
  backoffBaseMs: number;
  backoffCapMs: number;
  /** `busy` answers: wait at least this long, plus up to `busyJitterMs`. */
  busyFloorMs: number;
  busyJitterMs: number;
  /** A job started more often than this (throttled or busy for ever) is dead-lettered. */
  maxStarts: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  ...DEFAULT_RETRY_TIMING,
  inProcessRetries: 3,
  attempts: 8,
  backoffBaseMs: 5_000,
  backoffCapMs: 300_000,
  busyFloorMs: 30_000,
  busyJitterMs: 30_000,
  maxStarts: 500,
};

/** Delay before BullMQ retries a job that has failed `attemptsMade` times. */
export function backoffDelayMs(
  policy: Pick<RetryPolicy, 'backoffBaseMs' | 'backoffCapMs'>,
  attemptsMade: number,
  random: Random = Math.random,
): number {
  return fullJitterMs(attemptsMade - 1, policy.backoffBaseMs, policy.backoffCapMs, random);
}

/** How long a job waits after a `busy` answer. */
export function busyDelayMs(policy: RetryPolicy, random: Random = Math.random): number {
  return Math.round(policy.busyFloorMs + random() * policy.busyJitterMs);
}

/** The worker's policy from the `RETRY_*` settings; `attempts` stays the producer's (job options). */
export function buildRetryPolicy(config: Config): Omit<RetryPolicy, 'attempts'> {
  return {
    ...buildRetryTiming(config),
    inProcessRetries: config.RETRY_IN_PROCESS_RETRIES,
    backoffBaseMs: config.RETRY_BACKOFF_BASE_MS,
    backoffCapMs: config.RETRY_BACKOFF_CAP_MS,
    busyFloorMs: config.RETRY_BUSY_FLOOR_MS,
    busyJitterMs: config.RETRY_BUSY_JITTER_MS,
    maxStarts: config.RETRY_MAX_STARTS,
  };
}

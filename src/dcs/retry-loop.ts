/**
 * The one in-process retry loop, and the timing it waits by: a DELETE within one job run
 * (src/queue/delete-attempts.ts) and a list page (fetch-page.ts) both retry here. The timing is the
 * in-process part of the one retry policy (src/queue/retry-policy.ts, the `RETRY_*` settings).
 *
 * A plain loop rather than p-retry: the waits are full jitter, which p-retry's delay
 * (`minTimeout * factor^n`, times 1-2 when randomised) cannot express; a transient DELETE answer is a
 * value here, not an exception; and the first try, which most calls need alone, runs with nothing
 * around it (what that saves is measured in bench/README.md).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config/config.js';
import type { AttemptOutcome } from './attempt-outcome.js';

/** The in-process timing of the retry policy (RETRY_IN_PROCESS_* and RETRY_THROTTLE_*). */
export interface RetryTiming {
  /** Full-jitter base and cap of the waits between quick retries. */
  inProcessBaseMs: number;
  inProcessCapMs: number;
  /** `throttled` without Retry-After: wait between these two. */
  throttleMinMs: number;
  throttleMaxMs: number;
  /** A Retry-After longer than this is capped. */
  throttleCapMs: number;
}

export const DEFAULT_RETRY_TIMING: RetryTiming = {
  inProcessBaseMs: 200,
  inProcessCapMs: 3_000,
  throttleMinMs: 2_000,
  throttleMaxMs: 5_000,
  throttleCapMs: 60_000,
};

/** The timing from the `RETRY_*` settings. */
export function buildRetryTiming(config: Config): RetryTiming {
  return {
    inProcessBaseMs: config.RETRY_IN_PROCESS_BASE_MS,
    inProcessCapMs: config.RETRY_IN_PROCESS_CAP_MS,
    throttleMinMs: config.RETRY_THROTTLE_MIN_MS,
    throttleMaxMs: config.RETRY_THROTTLE_MAX_MS,
    throttleCapMs: config.RETRY_THROTTLE_CAP_MS,
  };
}

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

/** How long to wait after a 429: Retry-After when sent (capped), else between the min and the max, jittered. */
export function throttleDelayMs(
  timing: Pick<RetryTiming, 'throttleMinMs' | 'throttleMaxMs' | 'throttleCapMs'>,
  retryAfterMs: number | undefined,
  random: Random = Math.random,
): number {
  if (retryAfterMs !== undefined && retryAfterMs >= 0) return Math.min(retryAfterMs, timing.throttleCapMs);
  return Math.round(timing.throttleMinMs + random() * (timing.throttleMaxMs - timing.throttleMinMs));
}

/** The wait before quick retry number `retry` (1-based) of a transient failure. */
export function quickRetryDelayMs(timing: RetryTiming, retry: number, random: Random = Math.random): number {
  return fullJitterMs(retry - 1, timing.inProcessBaseMs, timing.inProcessCapMs, random);
}

/**
 * The wait before asking for a list page again after `outcome`, or undefined when asking again cannot
 * help (auth, configuration, a rejection, an abort). A page is only read: busy and throttled answers
 * are waited out here too, where a DELETE hands them to the queue.
 */
export function pageRetryDelayMs(
  timing: RetryTiming,
  outcome: AttemptOutcome,
  retry: number,
  random: Random = Math.random,
): number | undefined {
  switch (outcome.verdict.action) {
    case 'throttled':
      return throttleDelayMs(timing, outcome.retryAfterMs, random);
    case 'busy':
    case 'retry':
      return outcome.networkError === 'aborted' ? undefined : quickRetryDelayMs(timing, retry, random);
    default:
      return undefined;
  }
}

/** How a caller retries; made once per caller, as the loop runs for every DELETE. */
export interface RetryLoopOptions<T> {
  /** Most tries after the first. */
  retries: number;
  /** The wait before retry number `retry` (1-based) after `result`, or undefined to stop with it. */
  delayMs(result: T, retry: number): number | undefined;
  /** Called when a retry is decided, before its wait. */
  onRetry?(result: T, delayMs: number): void;
  /** Asked after each wait: false ends the loop with the last result (the breaker opened meanwhile). */
  proceed?(): boolean;
}

/**
 * Runs `attempt` until `delayMs` says stop, the retries are spent, or `signal` aborts (before or
 * during a wait); the last result.
 */
export async function retryInProcess<T>(
  attempt: () => Promise<T>,
  options: RetryLoopOptions<T>,
  signal?: AbortSignal,
): Promise<T> {
  let result = await attempt();
  for (let retry = 1; retry <= options.retries && signal?.aborted !== true; retry++) {
    const delayMs = options.delayMs(result, retry);
    if (delayMs === undefined) return result;
    options.onRetry?.(result, delayMs);
    try {
      await sleep(delayMs, undefined, { signal });
    } catch {
      return result;
    }
    if (options.proceed !== undefined && !options.proceed()) return result;
    result = await attempt();
  }
  return result;
}

/**
 * One account's rate gate, in one worker process: each DELETE waits here for its send time, which
 * the shared limiter in Redis reserves (rate-script.ts). One reservation at a time per process: the
 * waiting requests queue here, urgent ones first, so an urgent job takes the next send time of its
 * process whatever number of bulk jobs is waiting for theirs. A wait is in process: the job keeps
 * its slot and its lock, nothing goes back to BullMQ.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { RedisClient } from '../redis-connection.js';
import type { JobPriority } from '../job-contract.js';
import { rateKey, runRateScript, type AutoRateSettings, DEFAULT_AUTO_RATE } from './rate-script.js';

export interface RateGateOptions {
  connection: RedisClient;
  prefix: string;
  /** The unit the API throttles; `default` until accounts exist. */
  account: string;
  /** Requests/s across the deployment, or `auto`. Positive: 0 (off) means no gate at all. */
  limit: number | 'auto';
  auto?: Partial<AutoRateSettings>;
  /** Told the rate in force after every exchange with Redis (for the metric). */
  onRate?: (ratePerSecond: number) => void;
}

export interface RateGate {
  readonly account: string;
  readonly limit: number | 'auto';
  /** Resolves at this request's send time; at once when `signal` aborts (the caller checks it). */
  acquire(priority: JobPriority | undefined, signal?: AbortSignal): Promise<void>;
  /** Reports a 429: auto cuts the rate (once per cooldown); a Retry-After holds every send. Returns the rate. */
  throttled(retryAfterMs?: number): Promise<number>;
  /** The rate last seen in Redis (requests/s). */
  currentRate(): number;
}

interface Waiter {
  resolve: () => void;
  done: boolean;
}

export function createRateGate(options: RateGateOptions): RateGate {
  const { connection, limit } = options;
  if (limit !== 'auto' && !(limit > 0)) throw new Error('a rate gate needs a positive limit or auto');
  const auto: AutoRateSettings = { ...DEFAULT_AUTO_RATE, ...options.auto };
  const key = rateKey(options.prefix, options.account);
  let rate = limit === 'auto' ? auto.start : limit;
  const urgent: Waiter[] = [];
  const bulk: Waiter[] = [];
  let pumping = false;

  const seen = (perSecond: number): void => {
    rate = perSecond;
    options.onRate?.(perSecond);
  };

  async function pump(): Promise<void> {
    pumping = true;
    try {
      for (let w = urgent.shift() ?? bulk.shift(); w !== undefined; w = urgent.shift() ?? bulk.shift()) {
        if (w.done) continue;
        let waitMs: number;
        try {
          const answer = await runRateScript(connection, key, 'acquire', limit, auto);
          seen(answer.ratePerSecond);
          waitMs = answer.waitMs;
        } catch {
          // Redis unreachable: keep the last rate locally rather than stop or flood.
          waitMs = 1000 / rate;
        }
        if (waitMs >= 1) await sleep(waitMs);
        w.done = true;
        w.resolve();
      }
    } finally {
      pumping = false;
    }
  }

  return {
    account: options.account,
    limit,
    acquire(priority, signal) {
      if (signal?.aborted) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const waiter: Waiter = { resolve, done: false };
        const onAbort = (): void => {
          if (waiter.done) return;
          waiter.done = true;
          resolve();
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        waiter.resolve = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        (priority === 'urgent' ? urgent : bulk).push(waiter);
        if (!pumping) void pump();
      });
    },
    async throttled(retryAfterMs) {
      try {
        seen((await runRateScript(connection, key, 'throttled', limit, auto, retryAfterMs)).ratePerSecond);
      } catch {
        // The 429 is retried anyway; the next acquire reaches Redis again.
      }
      return rate;
    },
    currentRate: () => rate,
  };
}

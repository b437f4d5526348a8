/**
 * One account's rate gate, in one worker process: each DELETE waits here for a send time, which the
 * shared limiter in Redis reserves (rate-script.ts). The process reserves one send time per waiting
 * request (the reservations go out at once, pipelined on the connection, so a Redis round trip does
 * not bound the rate), and hands each out when it comes to the first urgent waiter, else the first
 * bulk one: an urgent job takes the next send time of its process, whatever number of bulk jobs
 * wait for theirs. A wait is in process: the job keeps its slot and its lock, nothing goes back to
 * BullMQ.
 */
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
}

export function createRateGate(options: RateGateOptions): RateGate {
  const { connection, limit } = options;
  if (limit !== 'auto' && !(limit > 0)) throw new Error('a rate gate needs a positive limit or auto');
  const auto: AutoRateSettings = { ...DEFAULT_AUTO_RATE, ...options.auto };
  const key = rateKey(options.prefix, options.account);
  let rate = limit === 'auto' ? auto.start : limit;
  const urgent: Waiter[] = [];
  const bulk: Waiter[] = [];
  /** Send times reserved (or being reserved) and not yet handed out. */
  let reserved = 0;
  /**
   * Local clock minus Redis's, as the fastest answer showed it: a send time is kept on the local
   * clock, so a slow answer (a loaded machine) does not shift it.
   */
  let clockOffsetMs = Number.POSITIVE_INFINITY;

  const seen = (perSecond: number): void => {
    rate = perSecond;
    options.onRate?.(perSecond);
  };

  /** This process's recent send times (ms), oldest first from `sentHead`. */
  let sent: number[] = [];
  let sentHead = 0;

  /**
   * A send time has come: it goes to the first urgent waiter, else the first bulk one. Unless this
   * process already sent `rate` requests in the last second: a send held back by a busy event loop
   * must not let the one a second later reach a sliding window early, so that one waits its turn.
   */
  const fire = (): void => {
    const now = Date.now();
    while (sentHead < sent.length && sent[sentHead]! <= now - 1000) sentHead++;
    if (sentHead > 1024) {
      sent = sent.slice(sentHead);
      sentHead = 0;
    }
    if (sent.length - sentHead >= Math.max(1, Math.floor(rate))) {
      setTimeout(fire, sent[sentHead]! + 1001 - now).unref();
      return;
    }
    reserved--;
    const waiter = urgent.shift() ?? bulk.shift();
    if (waiter !== undefined) {
      sent.push(now);
      waiter.resolve();
    }
    fill();
  };

  async function reserve(): Promise<void> {
    let waitMs: number;
    try {
      const answer = await runRateScript(connection, key, 'acquire', limit, auto);
      seen(answer.ratePerSecond);
      clockOffsetMs = Math.min(clockOffsetMs, Date.now() - answer.redisNowMs);
      waitMs = Math.min(answer.waitMs, answer.redisNowMs + answer.waitMs + clockOffsetMs - Date.now());
    } catch {
      // Redis unreachable: keep the last rate locally rather than stop or flood.
      waitMs = 1000 / rate;
    }
    if (waitMs >= 1) setTimeout(fire, waitMs).unref();
    else fire();
  }

  /** One reservation per waiting request: the slots are handed out in time order, urgent first. */
  function fill(): void {
    while (reserved < urgent.length + bulk.length) {
      reserved++;
      void reserve();
    }
  }

  return {
    account: options.account,
    limit,
    acquire(priority, signal) {
      if (signal?.aborted) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const lane = priority === 'urgent' ? urgent : bulk;
        const onAbort = (): void => {
          const i = lane.indexOf(waiter);
          if (i !== -1) lane.splice(i, 1);
          resolve();
        };
        const waiter: Waiter = {
          resolve: () => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          },
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        lane.push(waiter);
        fill();
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

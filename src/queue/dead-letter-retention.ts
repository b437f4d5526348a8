/**
 * Dead-letter retention: records older than `maxAgeMs`, and the oldest past `maxCount`, are dropped
 * by the worker processes, one at a time (a Redis lock), in batches of BATCH records found through
 * the time index. Each batch is a few short commands, so Redis never blocks on a long scan; a
 * backlog larger than one tick can drop is finished by the next ticks.
 */
import type { RedisClient } from './redis-connection.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { DeadLetters } from './dead-letters.js';

/** 0 turns a limit off. */
export interface DeadLetterRetention {
  maxAgeMs: number;
  maxCount: number;
}

const BATCH = 500;
const MAX_BATCHES_PER_TICK = 20;

export interface TrimDeps {
  connection: RedisClient;
  deadLetters: DeadLetters;
  retention: DeadLetterRetention;
  logger: Logger;
  metrics?: Metrics | undefined;
  /** How long the trim lock is held at most (the tick interval). */
  lockMs: number;
}

/** One retention pass; resolves how many records each limit dropped (0 and 0 when another process trims). */
export function createDeadLetterTrim(deps: TrimDeps): () => Promise<{ max_age: number; max_count: number }> {
  const { connection, deadLetters, retention, logger } = deps;
  const { index } = deadLetters;
  const lockKey = deadLetters.queue.toKey('trim-lock');

  async function dropWhile(next: () => Promise<string[]>): Promise<number> {
    let dropped = 0;
    for (let batch = 0; batch < MAX_BATCHES_PER_TICK; batch++) {
      const ids = await next();
      if (ids.length === 0) break;
      dropped += await deadLetters.drop(ids);
    }
    return dropped;
  }

  const overCount = async (): Promise<string[]> => {
    const excess = (await index.size()) - retention.maxCount;
    return excess > 0 ? index.oldest(Math.min(excess, BATCH)) : [];
  };

  function report(reason: 'max_age' | 'max_count', dropped: number): void {
    if (dropped === 0) return;
    deps.metrics?.deadLettersDropped.inc({ reason }, dropped);
    logger.warn(
      { dropped, reason, max_age_ms: retention.maxAgeMs, max_count: retention.maxCount },
      'dead letters trimmed',
    );
  }

  return async function trim() {
    const locked = await connection.set(lockKey, String(process.pid), 'PX', deps.lockMs, 'NX');
    if (locked !== 'OK') return { max_age: 0, max_count: 0 };
    try {
      await deadLetters.backfillIndex();
      const maxAge =
        retention.maxAgeMs > 0
          ? await dropWhile(() => index.oldest(BATCH, Date.now() - retention.maxAgeMs))
          : 0;
      const maxCount = retention.maxCount > 0 ? await dropWhile(overCount) : 0;
      report('max_age', maxAge);
      report('max_count', maxCount);
      return { max_age: maxAge, max_count: maxCount };
    } finally {
      await connection.del(lockKey);
    }
  };
}

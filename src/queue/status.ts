import type { Queue } from 'bullmq';
import type { DeadLetters } from './dead-letters.js';
import { circuitKey, type CircuitState } from './circuit-breaker.js';
import type { RedisClient } from './redis-connection.js';
import { readRateState, type RateState } from './rate-control/rate-script.js';

/** The account of a deployment without accounts. */
export const DEFAULT_ACCOUNT = 'default';

export interface QueueStatus {
  waiting: number;
  active: number;
  delayed: number;
  completed: number;
  failed: number;
  dead_letters: number;
  paused: boolean;
  /** Why the breaker paused the queue, when it did. */
  circuit: CircuitState;
  /** The shared rate limiter by account, as the workers last left it (null: no worker limited yet, or the limit is off). */
  rate: Record<string, RateState | null>;
}

/** Counts by state and the breaker's state, in two round trips. */
export async function getQueueStatus(
  queue: Queue,
  deadLetters: DeadLetters,
  connection: RedisClient,
  prefix: string,
): Promise<QueueStatus> {
  const [counts, dead, paused, raw, rate] = await Promise.all([
    queue.getJobCounts('wait', 'active', 'delayed', 'prioritized', 'completed', 'failed'),
    deadLetters.count(),
    queue.isPaused(),
    connection.hgetall(circuitKey(prefix)),
    readRateState(connection, prefix, DEFAULT_ACCOUNT),
  ]);
  const open = Object.keys(raw).length > 0;
  return {
    waiting: (counts.wait ?? 0) + (counts.prioritized ?? 0),
    active: counts.active ?? 0,
    delayed: counts.delayed ?? 0,
    completed: counts.completed ?? 0,
    failed: counts.failed ?? 0,
    dead_letters: dead,
    paused,
    rate: { [DEFAULT_ACCOUNT]: rate ?? null },
    circuit: open
      ? { open, ...raw, http_status: raw.http_status ? Number(raw.http_status) : undefined }
      : { open: false },
  };
}

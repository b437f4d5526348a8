import type { Queue } from 'bullmq';
import type { DeadLetters } from './dead-letters.js';
import { readCircuitState, type CircuitState } from './circuit-breaker.js';
import type { RedisClient } from './redis-connection.js';
import { readRateState, type RateState } from './rate-control/rate-script.js';
import { DEFAULT_ACCOUNT_NAME } from '../config/accounts-file.js';

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
  /** The account the queue serves: its rate limiter is read (default `default`). */
  account: string = DEFAULT_ACCOUNT_NAME,
): Promise<QueueStatus> {
  const [counts, dead, paused, circuit, rate] = await Promise.all([
    queue.getJobCounts('wait', 'active', 'delayed', 'prioritized', 'completed', 'failed'),
    deadLetters.count(),
    queue.isPaused(),
    readCircuitState(connection, prefix, queue.name),
    readRateState(connection, prefix, account),
  ]);
  return {
    waiting: (counts.wait ?? 0) + (counts.prioritized ?? 0),
    active: counts.active ?? 0,
    delayed: counts.delayed ?? 0,
    completed: counts.completed ?? 0,
    failed: counts.failed ?? 0,
    dead_letters: dead,
    paused,
    rate: { [account]: rate ?? null },
    circuit,
  };
}

import type { RedisClient } from '../queue/redis-connection.js';
import { ApiError } from './api-error.js';
import { isCleanupError } from '../errors.js';

/** The longest a request waits on Redis before it is answered 503. */
export const REDIS_DEADLINE_MS = 3_000;

const unavailable = (why: string): ApiError =>
  new ApiError('REDIS_UNAVAILABLE', `Redis is unavailable (${why})`);

/** Past the deadline: an outage only when the connection is down, else a slow request. */
function timedOut(connection: RedisClient, deadlineMs: number): ApiError {
  if (connection.status !== 'ready') return unavailable(`no answer within ${deadlineMs} ms`);
  return new ApiError(
    'REDIS_TIMEOUT',
    `Redis is up but this request took longer than ${deadlineMs} ms; narrow it (a filter, a smaller limit) or retry`,
  );
}

/**
 * Runs `work` against Redis, answering 503 REDIS_UNAVAILABLE instead of hanging: at once when the
 * connection is not ready (BullMQ would otherwise wait for it), after `deadlineMs` when Redis stops
 * answering, and for any failure that left the connection down. A request that outlives the deadline
 * while the connection is up is slow, not an outage: 504 REDIS_TIMEOUT. Enqueues are safe to retry
 * after either because job ids are deterministic.
 */
export async function withRedis<T>(
  connection: RedisClient,
  work: () => Promise<T>,
  deadlineMs = REDIS_DEADLINE_MS,
): Promise<T> {
  if (connection.status !== 'ready') throw unavailable(`connection ${connection.status}`);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timedOut(connection, deadlineMs)), deadlineMs);
  });
  try {
    return await Promise.race([work(), deadline]);
  } catch (err) {
    if (err instanceof ApiError || (isCleanupError(err) && err.code !== 'REDIS_UNAVAILABLE')) throw err;
    if (isCleanupError(err) || connection.status !== 'ready') throw unavailable('connection lost');
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

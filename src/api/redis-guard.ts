import type { RedisClient } from '../queue/redis-connection.js';
import { ApiError } from './api-error.js';
import { isCleanupError } from '../errors.js';

/** The longest a request waits on Redis before it is answered 503. */
export const REDIS_DEADLINE_MS = 3_000;

const unavailable = (why: string): ApiError =>
  new ApiError('REDIS_UNAVAILABLE', `Redis is unavailable (${why})`);

/**
 * Runs `work` against Redis, answering 503 REDIS_UNAVAILABLE instead of hanging: at once when the
 * connection is not ready (BullMQ would otherwise wait for it), after `deadlineMs` when Redis stops
 * answering, and for any failure that left the connection down. Enqueues are safe to retry after a
 * 503 because job ids are deterministic.
 */
export async function withRedis<T>(
  connection: RedisClient,
  work: () => Promise<T>,
  deadlineMs = REDIS_DEADLINE_MS,
): Promise<T> {
  if (connection.status !== 'ready') throw unavailable(`connection ${connection.status}`);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(unavailable(`no answer within ${deadlineMs} ms`)), deadlineMs);
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

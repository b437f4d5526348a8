import { isCleanupError, type CleanupError } from '../errors.js';
import { checkEvictionPolicy } from '../queue/eviction-check.js';
import type { RedisClient } from '../queue/redis-connection.js';
import type { App } from './create-app.js';

/** How long the API waits for Redis to check its eviction policy before it starts without. */
const READY_WAIT_MS = 2_000;

/**
 * Checks Redis's eviction policy before listening: throws when Redis answers and may evict keys.
 * When Redis is away the API starts anyway, and the check runs once Redis first answers: the
 * promise resolves with the refusal then (and never when the policy is fine).
 */
export async function checkApiEviction(app: App): Promise<{ refused: Promise<CleanupError> }> {
  const options = { allowEviction: app.config.REDIS_ALLOW_EVICTION, logger: app.logger };
  if (!(await becomesReady(app.connection, READY_WAIT_MS))) {
    app.logger.warn('Redis does not answer yet: its eviction policy is checked once it does');
    const refused = new Promise<CleanupError>((resolve) => {
      app.connection.once('ready', () => {
        checkEvictionPolicy(app.connection, options).catch((err: unknown) => {
          if (isCleanupError(err, 'REDIS_EVICTION')) resolve(err);
        });
      });
    });
    return { refused };
  }
  await checkEvictionPolicy(app.connection, options);
  return { refused: new Promise<never>(() => undefined) };
}

/** True once the connection is ready (an `api` connection has no offline queue to wait in). */
async function becomesReady(connection: RedisClient, timeoutMs: number): Promise<boolean> {
  if (connection.status === 'ready') return true;
  let timer: NodeJS.Timeout | undefined;
  let onReady: (() => void) | undefined;
  try {
    return await new Promise<boolean>((resolve) => {
      onReady = () => resolve(true);
      connection.once('ready', onReady);
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
  } finally {
    clearTimeout(timer);
    if (onReady) connection.off('ready', onReady);
  }
}

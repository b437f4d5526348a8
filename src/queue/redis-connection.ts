import { Redis, type RedisOptions } from 'ioredis';

/**
 * How a connection behaves when Redis is away:
 * - `worker`: waits and reconnects forever (BullMQ requires maxRetriesPerRequest null for workers);
 * - `producer`: a CLI or library call fails after a few seconds instead of hanging;
 * - `api`: fails at once (no offline queue), so the HTTP API answers 503 quickly.
 */
export type ConnectionRole = 'worker' | 'producer' | 'api';

/** Opens an ioredis connection for `role`; the caller owns it and must `quit()` it. */
export function createRedisConnection(url: string, role: ConnectionRole, extra: RedisOptions = {}): Redis {
  const base: RedisOptions = {
    connectTimeout: 5_000,
    // Reconnect with a capped backoff: a restarted Redis is picked up without a process restart.
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2_000),
    lazyConnect: false,
  };
  const byRole: Record<ConnectionRole, RedisOptions> = {
    worker: { maxRetriesPerRequest: null, enableReadyCheck: true },
    // A short disconnectTimeout: closing a connection that never came up must not hold the process 2 s.
    producer: { maxRetriesPerRequest: 3, enableOfflineQueue: true, disconnectTimeout: 200 },
    api: {
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      connectTimeout: 2_000,
      disconnectTimeout: 200,
    },
  };
  return new Redis(url, { ...base, ...byRole[role], ...extra });
}

/**
 * The one factory of Redis connections, for the three modes of the configuration (standalone
 * `REDIS_URL`, cluster `REDIS_CLUSTER_NODES`, sentinel `REDIS_SENTINELS`) and three roles:
 * - `worker`: waits and reconnects forever (BullMQ requires maxRetriesPerRequest null for workers);
 * - `producer`: a CLI or library call fails after a few seconds instead of hanging;
 * - `api`: fails at once (no offline queue), so the HTTP API answers 503 quickly.
 * After a failover (cluster or sentinel) every role follows the promoted replica by itself.
 */
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { parseHostPorts, redisModeOf, type RedisSettings } from '../config/redis-settings.js';

export type ConnectionRole = 'worker' | 'producer' | 'api';

/** A standalone or sentinel connection (`Redis`) or a cluster one (`Cluster`). */
export type RedisClient = Redis | Cluster;

/** Reconnect with a capped backoff: a restarted or promoted Redis is picked up without a restart. */
const reconnectDelayMs = (times: number): number => Math.min(50 * 2 ** Math.min(times, 6), 2_000);

/**
 * A demoted master answers writes with READONLY: reconnect (sentinel mode then asks the sentinels
 * for the new master) and resend the command.
 */
const reconnectOnReadonly = (err: Error): 2 | false => (err.message.startsWith('READONLY') ? 2 : false);

const BY_ROLE: Record<ConnectionRole, RedisOptions> = {
  worker: { maxRetriesPerRequest: null, enableReadyCheck: true },
  // A short disconnectTimeout: closing a connection that never came up must not hold the process 2 s.
  producer: { maxRetriesPerRequest: 3, enableOfflineQueue: true, disconnectTimeout: 200 },
  api: { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2_000, disconnectTimeout: 200 },
};

/**
 * Opens a connection for `role`; the caller owns it and must `disconnect()` or `quit()` it.
 * A plain string is a standalone `redis://` URL (tests and the demo).
 */
export function createRedisConnection(
  target: RedisSettings | string,
  role: ConnectionRole,
  extra: RedisOptions = {},
): RedisClient {
  const settings: RedisSettings = typeof target === 'string' ? { REDIS_URL: target } : target;
  return trackDuplicates(remember(openConnection(settings, role, extra), settings));
}

function openConnection(settings: RedisSettings, role: ConnectionRole, extra: RedisOptions): RedisClient {
  const base: RedisOptions = {
    connectTimeout: 5_000,
    retryStrategy: reconnectDelayMs,
    reconnectOnError: reconnectOnReadonly,
    lazyConnect: false,
  };
  switch (redisModeOf(settings)) {
    case 'cluster':
      return createClusterConnection(settings, role, extra);
    case 'sentinel':
      return new Redis({
        ...base,
        ...loginOptions(settings),
        sentinels: parseHostPorts(settings.REDIS_SENTINELS!),
        name: settings.REDIS_SENTINEL_MASTER!,
        role: 'master',
        ...(settings.REDIS_SENTINEL_PASSWORD === undefined
          ? {}
          : { sentinelPassword: settings.REDIS_SENTINEL_PASSWORD }),
        ...(settings.REDIS_TLS === true ? { enableTLSForSentinelMode: true, sentinelTLS: {} } : {}),
        sentinelRetryStrategy: reconnectDelayMs,
        // Subscribe to the sentinels' +switch-master: reconnect when a failover happens, not when
        // the old master's socket finally times out.
        failoverDetector: true,
        ...BY_ROLE[role],
        ...extra,
      });
    default:
      return new Redis(settings.REDIS_URL, { ...base, ...BY_ROLE[role], ...extra });
  }
}

/** REDIS_USERNAME, REDIS_PASSWORD and REDIS_TLS as ioredis options (cluster and sentinel modes). */
function loginOptions(settings: RedisSettings): RedisOptions {
  return {
    ...(settings.REDIS_USERNAME === undefined ? {} : { username: settings.REDIS_USERNAME }),
    ...(settings.REDIS_PASSWORD === undefined ? {} : { password: settings.REDIS_PASSWORD }),
    ...(settings.REDIS_TLS === true ? { tls: {} } : {}),
  };
}

function createClusterConnection(
  settings: RedisSettings,
  role: ConnectionRole,
  extra: RedisOptions,
): Cluster {
  const { enableOfflineQueue, ...roleOptions } = BY_ROLE[role];
  const options: ClusterOptions = {
    redisOptions: {
      connectTimeout: 5_000,
      reconnectOnError: reconnectOnReadonly,
      ...loginOptions(settings),
      ...roleOptions,
      ...extra,
    },
    enableReadyCheck: true,
    ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }),
    clusterRetryStrategy: reconnectDelayMs,
    // A command sent to a master that just died is retried once the slots are read again, and
    // CLUSTERDOWN (no master for a slot while a replica is promoted) is waited out the same way.
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 300,
    retryDelayOnTryAgain: 100,
    maxRedirections: 32,
    slotsRefreshTimeout: 2_000,
    slotsRefreshInterval: 5_000,
    // With TLS the certificates name the host, not the address DNS resolved it to.
    ...(settings.REDIS_TLS === true ? { dnsLookup: (address, done) => done(null, address) } : {}),
  };
  return new Cluster(parseHostPorts(settings.REDIS_CLUSTER_NODES!), options);
}

const duplicates = new WeakMap<RedisClient, Set<RedisClient>>();

/**
 * Records every duplicate made of `connection` (BullMQ makes one per worker for its blocking
 * reads), so that `closeRedisConnection` can end them too.
 */
function trackDuplicates(connection: RedisClient): RedisClient {
  const made = new Set<RedisClient>();
  duplicates.set(connection, made);
  const duplicate = connection.duplicate.bind(connection) as (...args: unknown[]) => RedisClient;
  const tracked = (...args: unknown[]): RedisClient => {
    const copy = duplicate(...args);
    made.add(copy);
    return copy;
  };
  Object.assign(connection, { duplicate: tracked });
  return connection;
}

/**
 * Disconnects `connection` and every duplicate made of it, for good. After a cluster failover
 * BullMQ may reconnect a worker's blocking client while (or after) the worker closes, and that
 * client would keep the process alive for ever: a client closed here is disconnected again each
 * time it comes back. Call it last, once everything using the connection is closed.
 */
export function closeRedisConnection(connection: RedisClient): void {
  for (const copy of duplicates.get(connection) ?? []) disconnectForGood(copy);
  disconnectForGood(connection);
}

function disconnectForGood(client: RedisClient): void {
  const again = (): void => client.disconnect();
  for (const status of ['connecting', 'reconnecting', 'connect', 'ready']) client.on(status, again);
  client.disconnect();
}

const descriptions = new WeakMap<RedisClient, string>();

/** Where a connection points, for messages: `host:port`, the cluster seeds or the sentinel master. */
export function describeRedis(connection: RedisClient): string {
  const known = descriptions.get(connection);
  if (known !== undefined) return known;
  const options = connection.options as RedisOptions;
  return `${options.host ?? '?'}:${options.port ?? '?'}`;
}

/** Remembers how `settings` names where Redis is (no password: URLs lose their credentials). */
function remember(connection: RedisClient, settings: RedisSettings): RedisClient {
  let where: string;
  if (settings.REDIS_CLUSTER_NODES !== undefined) where = `cluster ${settings.REDIS_CLUSTER_NODES}`;
  else if (settings.REDIS_SENTINELS !== undefined)
    where = `sentinel master ${settings.REDIS_SENTINEL_MASTER ?? '?'} (${settings.REDIS_SENTINELS})`;
  else where = describeRedis(connection);
  descriptions.set(connection, where);
  return connection;
}

/**
 * The start-up check of Redis's eviction policy. A Redis that may evict keys (any
 * `maxmemory-policy` but `noeviction`) drops queued jobs silently when it fills up, instead of
 * refusing the writes that would fill it. The worker and the API refuse to start on one unless
 * REDIS_ALLOW_EVICTION=true. On a cluster every master is asked.
 */
import { Cluster, type Redis } from 'ioredis';
import { CleanupError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { describeRedis, type RedisClient } from './redis-connection.js';

export interface EvictionPolicy {
  /** `host:port` of the master (or the connection's description for a single server). */
  node: string;
  policy: string;
  /** How it was read: CONFIG GET, or INFO where CONFIG is disabled or renamed. */
  source: 'config' | 'info';
}

/** Reads one server's maxmemory-policy: CONFIG GET, else INFO memory. */
export async function readEvictionPolicy(node: Redis, name: string): Promise<EvictionPolicy> {
  try {
    const reply = (await node.call('CONFIG', 'GET', 'maxmemory-policy')) as string[];
    if (reply.length === 2 && typeof reply[1] === 'string') {
      return { node: name, policy: reply[1], source: 'config' };
    }
  } catch {
    // CONFIG renamed or disabled (managed Redis services do this), or forbidden by an ACL: ask INFO.
  }
  const info = await node.info('memory');
  const match = /^maxmemory_policy:(\S+)/m.exec(info);
  if (!match) {
    throw new CleanupError(
      'REDIS_EVICTION',
      `could not read the eviction policy of Redis ${name} (neither CONFIG GET nor INFO memory tells it); set REDIS_ALLOW_EVICTION=true to run without this check`,
    );
  }
  return { node: name, policy: match[1]!, source: 'info' };
}

/** The policy of every master: one for a single server or a sentinel master, all of a cluster's. */
export async function readEvictionPolicies(connection: RedisClient): Promise<EvictionPolicy[]> {
  if (!(connection instanceof Cluster)) {
    return [await readEvictionPolicy(connection, describeRedis(connection))];
  }
  const masters = connection.nodes('master');
  return Promise.all(
    masters.map((node) =>
      readEvictionPolicy(node, `${node.options.host ?? '?'}:${node.options.port ?? '?'}`),
    ),
  );
}

/**
 * Throws REDIS_EVICTION when a master may evict keys, unless `allowEviction`; then it logs a
 * warning instead. Needs a connection that answers (ping it first).
 */
export async function checkEvictionPolicy(
  connection: RedisClient,
  options: { allowEviction: boolean; logger: Logger },
): Promise<EvictionPolicy[]> {
  const policies = await readEvictionPolicies(connection);
  const evicting = policies.filter((p) => p.policy !== 'noeviction');
  if (evicting.length === 0) return policies;
  const list = evicting.map((p) => `${p.node} has ${p.policy}`).join(', ');
  if (options.allowEviction) {
    options.logger.warn(
      { eviction_policies: evicting.map((p) => `${p.node}=${p.policy}`) },
      'Redis may evict keys: queued jobs can vanish when it is full (REDIS_ALLOW_EVICTION=true)',
    );
    return policies;
  }
  throw new CleanupError(
    'REDIS_EVICTION',
    `Redis may evict queued jobs: maxmemory-policy must be noeviction, but ${list}. Set it with CONFIG SET maxmemory-policy noeviction (or in redis.conf / the cloud console), or set REDIS_ALLOW_EVICTION=true to run anyway`,
    { details: { policies: evicting.map((p) => p.policy) } },
  );
}

/**
 * The Redis section of the configuration schema (src/config/config.ts spreads it in): one mode at a
 * time, checked as a whole by checkRedisMode (redis-settings.ts).
 */
import { z } from 'zod';
import { checkHostPorts } from './redis-settings.js';
import { optionalString } from './schema-parts.js';

export const redisSchemaShape = {
  REDIS_URL: z
    .string()
    .default('redis://127.0.0.1:6379')
    .describe(
      'Standalone Redis URL (redis:// or rediss://) shared by producers, workers and the API; not with REDIS_CLUSTER_NODES or REDIS_SENTINELS.',
    )
    .refine((v) => /^rediss?:\/\//.test(v) && URL.canParse(v), 'must be a redis:// or rediss:// URL'),
  REDIS_CLUSTER_NODES: optionalString
    .describe(
      'Redis Cluster seed nodes, host:port,host:port (the rest is discovered); selects cluster mode instead of REDIS_URL.',
    )
    .superRefine((value, ctx) => checkHostPorts(value, ctx)),
  REDIS_SENTINELS: optionalString
    .describe(
      'Redis Sentinel addresses, host:port,host:port; selects sentinel mode (with REDIS_SENTINEL_MASTER) instead of REDIS_URL.',
    )
    .superRefine((value, ctx) => checkHostPorts(value, ctx)),
  REDIS_SENTINEL_MASTER: optionalString.describe(
    'Name of the master the sentinels watch (sentinel mode only).',
  ),
  REDIS_SENTINEL_PASSWORD: optionalString.describe(
    'Password of the sentinels themselves, when they have one (sentinel mode only). Never logged.',
  ),
  REDIS_USERNAME: optionalString.describe(
    'Redis ACL user for cluster and sentinel modes (in standalone mode it goes in REDIS_URL).',
  ),
  REDIS_PASSWORD: optionalString.describe(
    'Redis password for cluster and sentinel modes (in standalone mode it goes in REDIS_URL). Never logged.',
  ),
  REDIS_TLS: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true')
    .describe(
      'true: TLS to every Redis node and sentinel in cluster and sentinel modes (standalone: rediss://).',
    ),
  REDIS_ALLOW_EVICTION: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true')
    .describe(
      'true: let the worker and the API run on a Redis whose maxmemory-policy is not noeviction (queued jobs may vanish).',
    ),
};

/**
 * The Redis part of the configuration: three modes (standalone `REDIS_URL`, cluster
 * `REDIS_CLUSTER_NODES`, sentinel `REDIS_SENTINELS` + `REDIS_SENTINEL_MASTER`), one at a time.
 */
import type { z } from 'zod';

/** The settings that say where Redis is and how to log in (a subset of Config). */
export interface RedisSettings {
  REDIS_URL: string;
  REDIS_CLUSTER_NODES?: string | undefined;
  REDIS_SENTINELS?: string | undefined;
  REDIS_SENTINEL_MASTER?: string | undefined;
  REDIS_SENTINEL_PASSWORD?: string | undefined;
  REDIS_USERNAME?: string | undefined;
  REDIS_PASSWORD?: string | undefined;
  REDIS_TLS?: boolean | undefined;
}

export type RedisMode = 'standalone' | 'cluster' | 'sentinel';

export interface HostPort {
  host: string;
  port: number;
}

const HOST_PORT = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/** `host:port,host:port` as a list; throws on a malformed item (the schema refuses those first). */
export function parseHostPorts(value: string): HostPort[] {
  return value.split(',').map((raw) => {
    const item = raw.trim();
    const match = HOST_PORT.exec(item);
    const port = Number(match?.[2]);
    if (!match || port < 1 || port > 65_535) throw new Error(`not host:port: ${JSON.stringify(item)}`);
    return { host: match[1]!.replace(/^\[(.*)\]$/, '$1'), port };
  });
}

/** Schema refinement: a comma-separated list of host:port, each port in 1..65535. */
export function checkHostPorts(value: string | undefined, ctx: z.RefinementCtx): void {
  if (value === undefined) return;
  try {
    parseHostPorts(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be host:port,host:port (a port from 1 to 65535 each)' });
  }
}

/**
 * The part of `key` Redis Cluster hashes: the text between the first `{` and the first `}` after
 * it, when that is not empty; undefined when the whole key is hashed.
 */
export function hashTagOf(key: string): string | undefined {
  const open = key.indexOf('{');
  const close = open < 0 ? -1 : key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : undefined;
}

export function redisModeOf(settings: RedisSettings): RedisMode {
  if (settings.REDIS_CLUSTER_NODES !== undefined) return 'cluster';
  if (settings.REDIS_SENTINELS !== undefined) return 'sentinel';
  return 'standalone';
}

/** One Redis mode at a time, each with its own settings, and a hash-tag prefix on a cluster. */
export function checkRedisMode(
  config: RedisSettings & { CLEANUP_PREFIX: string },
  env: Readonly<Record<string, string | undefined>>,
  ctx: z.RefinementCtx,
): void {
  const set = (name: string): boolean => (env[name] ?? '').trim() !== '';
  const issue = (path: string, message: string): void =>
    ctx.addIssue({ code: 'custom', path: [path], message });
  const modes = ['REDIS_URL', 'REDIS_CLUSTER_NODES', 'REDIS_SENTINELS'].filter(set);
  if (modes.length > 1) {
    issue(modes[1]!, `set only one of ${modes.join(', ')}: each selects a different Redis mode`);
  }
  if (set('REDIS_SENTINELS') !== set('REDIS_SENTINEL_MASTER')) {
    issue('REDIS_SENTINEL_MASTER', 'REDIS_SENTINELS and REDIS_SENTINEL_MASTER go together (sentinel mode)');
  }
  if (set('REDIS_SENTINEL_PASSWORD') && !set('REDIS_SENTINELS')) {
    issue('REDIS_SENTINEL_PASSWORD', 'is used only with REDIS_SENTINELS');
  }
  const loginSettings = ['REDIS_USERNAME', 'REDIS_PASSWORD'].filter(set);
  if (config.REDIS_TLS === true) loginSettings.push('REDIS_TLS');
  if (modes.length === 0 || modes[0] === 'REDIS_URL') {
    for (const name of loginSettings) {
      issue(
        name,
        'applies to REDIS_CLUSTER_NODES and REDIS_SENTINELS; in standalone mode put it in REDIS_URL',
      );
    }
  }
  if (config.REDIS_CLUSTER_NODES !== undefined && hashTagOf(config.CLEANUP_PREFIX) === undefined) {
    issue(
      'CLEANUP_PREFIX',
      'must carry a hash tag such as {dcs-cleanup} on Redis Cluster: every key of a queue must live in one slot (BullMQ scripts touch several keys at once)',
    );
  }
}

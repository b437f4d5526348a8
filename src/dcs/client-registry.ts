import type { CredentialProvider } from '../huawei/credential-provider.js';
import type { Credentials } from '../huawei/credentials.js';
import { resolveEndpoint, type Config } from '../config/config.js';
import type { Logger } from '../observability/logger.js';
import { createDcsClient, type DcsClient } from './dcs-client.js';
import { buildRetryTiming } from './retry-loop.js';

/**
 * One DCS client (and so one keep-alive pool) per endpoint, created on first use. At most
 * `DCS_CLIENT_CACHE_SIZE` are kept: the least recently used one is closed when another is needed
 * (its calls in flight finish first), so many regions cost a bounded number of pools.
 */
export interface ClientRegistry {
  /** The client for `region` (DCS_REGION when undefined); INVALID_CONFIG naming an unknown region. */
  get(region: string | undefined): DcsClient;
  close(): Promise<void>;
}

export function createClientRegistry(
  config: Config,
  credentials: Credentials | CredentialProvider,
  logger?: Logger,
): ClientRegistry {
  // Map order is the recency order: the first entry is the least recently used.
  const clients = new Map<string, DcsClient>();
  const closing = new Set<Promise<void>>();
  let newest: string | undefined;
  const retryTiming = buildRetryTiming(config);

  function evictOldest(): void {
    const [endpoint, client] = clients.entries().next().value!;
    clients.delete(endpoint);
    const closed = client.close().catch(() => undefined);
    closing.add(closed);
    void closed.finally(() => closing.delete(closed));
    logger?.info({ endpoint, cache_size: config.DCS_CLIENT_CACHE_SIZE }, 'dcs client evicted');
  }

  return {
    get(region) {
      const endpoint = resolveEndpoint(config, region);
      let client = clients.get(endpoint);
      if (client !== undefined) {
        // Most jobs go to one region: only a change of endpoint reorders the map.
        if (newest !== endpoint) {
          clients.delete(endpoint);
          clients.set(endpoint, client);
          newest = endpoint;
        }
        return client;
      }
      if (clients.size >= config.DCS_CLIENT_CACHE_SIZE) evictOldest();
      client = createDcsClient({
        endpoint,
        credentials,
        connectTimeoutMs: config.DCS_CONNECT_TIMEOUT_MS,
        headersTimeoutMs: config.DCS_HEADERS_TIMEOUT_MS,
        bodyTimeoutMs: config.DCS_BODY_TIMEOUT_MS,
        requestTimeoutMs: config.DCS_REQUEST_TIMEOUT_MS,
        retryTiming,
        ...(logger ? { logger } : {}),
      });
      clients.set(endpoint, client);
      newest = endpoint;
      return client;
    },
    async close() {
      await Promise.all([...clients.values()].map((c) => c.close()));
      await Promise.all(closing);
      clients.clear();
    },
  };
}

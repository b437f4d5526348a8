import type { CredentialProvider } from '../huawei/credential-provider.js';
import type { Credentials } from '../huawei/credentials.js';
import { resolveEndpoint, type Config } from '../config/config.js';
import type { Logger } from '../observability/logger.js';
import { createDcsClient, type DcsClient } from './dcs-client.js';

/** One DCS client (and so one keep-alive pool) per endpoint, created on first use. */
export interface ClientRegistry {
  get(region: string | undefined): DcsClient;
  close(): Promise<void>;
}

export function createClientRegistry(
  config: Config,
  credentials: Credentials | CredentialProvider,
  logger?: Logger,
): ClientRegistry {
  const clients = new Map<string, DcsClient>();
  return {
    get(region) {
      const endpoint = resolveEndpoint(config, region);
      let client = clients.get(endpoint);
      if (!client) {
        client = createDcsClient({
          endpoint,
          credentials,
          connectTimeoutMs: config.DCS_CONNECT_TIMEOUT_MS,
          headersTimeoutMs: config.DCS_HEADERS_TIMEOUT_MS,
          bodyTimeoutMs: config.DCS_BODY_TIMEOUT_MS,
          ...(logger ? { logger } : {}),
        });
        clients.set(endpoint, client);
      }
      return client;
    },
    async close() {
      await Promise.all([...clients.values()].map((c) => c.close()));
      clients.clear();
    },
  };
}

/** The worker's /metrics and /healthz (src/observability/metrics-server.ts), unless the port is 0. */
import { recordQueueStatus, type Metrics } from '../observability/metrics.js';
import { startMetricsServer, type MetricsServer } from '../observability/metrics-server.js';
import { createWorkerHealth } from '../observability/worker-health.js';
import { getQueueStatus } from '../queue/status.js';
import type { AccountWorkers } from '../queue/account-queues.js';
import { withAccountLabel } from '../observability/account-metrics.js';
import type { App } from './create-app.js';

/**
 * Listens before the pool starts and closes after it has stopped, so /healthz answers through the
 * start and the drain; the queue gauges, one set per account's queue labelled with its account, are
 * sampled once `pools()` has the pools.
 */
export async function serveWorkerMetrics(
  app: App,
  metrics: Metrics,
  port: number,
  pools: () => AccountWorkers | undefined,
): Promise<MetricsServer | undefined> {
  const { config } = app;
  if (port === 0) return undefined;
  const health = createWorkerHealth({
    ping: () => app.connection.ping(),
    graceMs: config.WORKER_HEALTH_GRACE_MS,
  });
  health.start();
  const server = await startMetricsServer(metrics.registry, port, config.METRICS_HOST, {
    beforeScrape: async () => {
      for (const [account, pool] of pools()?.pools ?? []) {
        const status = await getQueueStatus(
          pool.queue,
          pool.deadLetters,
          app.connection,
          app.prefix,
          account,
        );
        recordQueueStatus(withAccountLabel(metrics, account), status);
      }
    },
    health: () => health.report(),
  }).catch((err: unknown) => {
    health.stop();
    throw err;
  });
  return {
    port: server.port,
    close: async () => {
      health.stop();
      await server.close();
    },
  };
}

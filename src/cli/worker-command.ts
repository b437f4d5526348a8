import { resolveCredentialSettings } from '../config/credential-settings.js';
import { createConfiguredCredentialProvider } from '../dcs/credential-sources/create-credential-provider.js';
import type { Command } from 'commander';
import { loadConfig, type Config } from '../config/config.js';
import type { AutoRateSettings } from '../queue/rate-control/rate-script.js';
import { CLOSE_WAIT_MS, createApp, pingRedis, settleWithin, type App } from '../app.js';
import { createClientRegistry } from '../dcs/client-registry.js';
import { createCleanupWorker, type CleanupWorker } from '../queue/worker.js';
import { buildRetryPolicy } from '../queue/retry-policy.js';
import { createScheduleWorker } from '../queue/schedule-worker.js';
import { createMetrics, recordQueueStatus, type Metrics } from '../observability/metrics.js';
import { startMetricsServer } from '../observability/metrics-server.js';
import { createWorkerHealth } from '../observability/worker-health.js';
import { getQueueStatus } from '../queue/status.js';
import { checkEvictionPolicy } from '../queue/eviction-check.js';
import { waitForShutdown } from '../bin/process-lifecycle.js';
import { EXIT_CODES, runCommand } from './run-command.js';
import { parseIntOption, parseRateLimitOption } from './options.js';

interface WorkerFlags {
  concurrency?: number;
  rateLimit?: number | 'auto';
  exitWhenIdle?: boolean;
  metricsPort?: number;
  shutdownTimeout?: number;
  lockDurationMs?: number;
}

export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description(
      'Run the worker pool: delete queued tasks with signed DELETEs until stopped (SIGTERM/SIGINT).',
    )
    .option(
      '--concurrency <n>',
      'jobs in flight in this process (default WORKER_CONCURRENCY, 32)',
      parseIntOption('--concurrency', 1, 1000),
    )
    .option(
      '--rate-limit <n|auto>',
      'DELETEs per second across all workers, smoothly spaced; auto = find the API limit (WORKER_RATE_AUTO_*); 0 = off (default WORKER_RATE_LIMIT, 50)',
      parseRateLimitOption,
    )
    .option(
      '--exit-when-idle',
      'exit 0 once nothing is waiting, active or delayed (exit 1 if the breaker pauses the queue)',
    )
    .option(
      '--metrics-port <port>',
      'serve Prometheus /metrics on this port (default METRICS_PORT; 0 = off)',
      parseIntOption('--metrics-port', 0, 65_535),
    )
    .option(
      '--shutdown-timeout <seconds>',
      'on SIGTERM, how long in-flight requests may finish before they are aborted',
      parseIntOption('--shutdown-timeout', 0, 3_600),
      10,
    )
    .option(
      '--lock-duration-ms <ms>',
      'how long a job stays claimed by a worker that died (kill -9) before another worker takes it over',
      parseIntOption('--lock-duration-ms', 1_000, 600_000),
      30_000,
    )
    .addHelpText(
      'after',
      '\nExample:\n  CLOUD_SDK_AK=... CLOUD_SDK_SK=... dcs-cleanup worker --concurrency 64 --rate-limit 100\n',
    )
    .action(runCommand(runWorker));
}

async function runWorker(flags: WorkerFlags): Promise<number> {
  const config = loadConfig();
  const credentialSettings = resolveCredentialSettings(config);
  const app = createApp(config, { role: 'worker' });
  const { logger } = app;
  const credentials = createConfiguredCredentialProvider(config, logger, credentialSettings);
  try {
    await pingRedis(app.connection);
    await checkEvictionPolicy(app.connection, { allowEviction: config.REDIS_ALLOW_EVICTION, logger });
  } catch (err) {
    await app.close();
    throw err;
  }
  const metrics = createMetrics();
  const clients = createClientRegistry(config, credentials, logger);
  const pool = await createCleanupWorker({
    connection: app.connection,
    prefix: app.prefix,
    getClient: (region) => clients.get(region),
    ...(config.DCS_PROJECT_ID === undefined
      ? {}
      : { trusted: { projectId: config.DCS_PROJECT_ID, region: config.DCS_REGION } }),
    logger,
    metrics,
    concurrency: flags.concurrency ?? config.WORKER_CONCURRENCY,
    rateLimitPerSecond: flags.rateLimit ?? config.WORKER_RATE_LIMIT,
    autoRate: buildAutoRate(config),
    shutdownTimeoutMs: (flags.shutdownTimeout ?? 10) * 1000,
    lockDurationMs: flags.lockDurationMs ?? 30_000,
    probeIntervalMs: config.WORKER_PROBE_INTERVAL_MS,
    deadLetterRetention: {
      maxAgeMs: config.DEAD_LETTER_MAX_AGE_DAYS * 86_400_000,
      maxCount: config.DEAD_LETTER_MAX_COUNT,
    },
    policy: buildRetryPolicy(config),
  });
  // Scheduled purges fire in every worker process; BullMQ hands each firing to one of them.
  const schedules = createScheduleWorker({
    connection: app.connection,
    prefix: app.prefix,
    logger,
    getLister: (r) => clients.get(r),
    producer: app.producer(),
  });
  const metricsServer = await serveWorkerMetrics(app, pool, metrics, flags.metricsPort);
  logger.info(
    {
      concurrency: flags.concurrency ?? config.WORKER_CONCURRENCY,
      rate_limit: flags.rateLimit ?? config.WORKER_RATE_LIMIT,
      prefix: app.prefix,
      metrics_port: metricsServer?.port ?? null,
    },
    'worker started',
  );
  const close = async (): Promise<void> => {
    // In-flight jobs get the shutdown timeout (then their requests are aborted and the jobs put
    // back); past it and a few seconds more, the connections are ended under BullMQ.
    const shutdownMs = (flags.shutdownTimeout ?? 10) * 1000;
    await settleWithin(Promise.all([schedules.close(), pool.close()]), shutdownMs + CLOSE_WAIT_MS);
    await metricsServer?.close();
    await clients.close();
    await app.close();
    logger.info('worker stopped');
    logger.flush();
  };
  if (flags.exitWhenIdle) {
    const state = await Promise.race([
      pool.waitUntilIdle(),
      waitForShutdown({ close: () => Promise.resolve() }).then(() => 'signal' as const),
    ]);
    await close();
    if (state === 'paused') {
      process.stderr.write(
        'dcs-cleanup: the circuit breaker paused the queue (see the fatal log record); fix the credentials or endpoint, then run `dcs-cleanup resume`\n',
      );
      return EXIT_CODES.failure;
    }
    return EXIT_CODES.ok;
  }
  return waitForShutdown({ close }, { onSignal: (signal) => logger.info({ signal }, 'shutting down') });
}

/** The WORKER_RATE_AUTO_* settings. */
function buildAutoRate(config: Config): AutoRateSettings {
  return {
    start: config.WORKER_RATE_AUTO_START,
    min: config.WORKER_RATE_AUTO_MIN,
    max: config.WORKER_RATE_AUTO_MAX,
    step: config.WORKER_RATE_AUTO_STEP,
    cut: config.WORKER_RATE_AUTO_CUT,
    cooldownMs: config.WORKER_RATE_AUTO_COOLDOWN_MS,
  };
}

/** The worker's /metrics and /healthz (src/observability/metrics-server.ts), unless the port is 0. */
async function serveWorkerMetrics(
  app: App,
  pool: CleanupWorker,
  metrics: Metrics,
  portFlag: number | undefined,
): Promise<{ port: number; close(): Promise<void> } | undefined> {
  const { config } = app;
  const port = portFlag ?? config.METRICS_PORT;
  if (port === 0) return undefined;
  const health = createWorkerHealth({
    ping: () => app.connection.ping(),
    graceMs: config.WORKER_HEALTH_GRACE_MS,
  });
  health.start();
  const server = await startMetricsServer(metrics.registry, port, config.METRICS_HOST, {
    beforeScrape: async () => {
      recordQueueStatus(
        metrics,
        await getQueueStatus(pool.queue, pool.deadLetters, app.connection, app.prefix),
      );
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

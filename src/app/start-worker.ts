/**
 * startWorker: a worker process's running parts, built from an App. The `worker` command, the demo,
 * the test harness and (through the CLI) the benchmarks all start the pool here, so they run the
 * same wiring; they differ only by overrides (src/app/worker-settings.ts).
 *
 * Started in this order, released in the reverse one by `close()`:
 *   client registry (DCS clients, credentials) -> metrics server (/metrics, /healthz) ->
 *   cleanup worker pool -> schedule worker (the last two stop together, within the shutdown timeout).
 * The App (connection, producer, dead letters) stays its owner's: close it after the service.
 */
import type { Credentials } from '../huawei/credentials.js';
import type { CredentialProvider } from '../huawei/credential-provider.js';
import { createConfiguredCredentialProvider } from '../dcs/credential-sources/create-credential-provider.js';
import { createClientRegistry } from '../dcs/client-registry.js';
import { createCleanupWorker, type CleanupWorker } from '../queue/worker.js';
import { createScheduleWorker, type ScheduleWorker } from '../queue/schedule-worker.js';
import { checkEvictionPolicy } from '../queue/eviction-check.js';
import { createMetrics, type Metrics } from '../observability/metrics.js';
import { CLOSE_WAIT_MS, pingRedis, settleWithin, type App } from './create-app.js';
import { resolveWorkerSettings, type WorkerOverrides, type WorkerSettings } from './worker-settings.js';
import { serveWorkerMetrics } from './worker-metrics.js';
import { startEventConsumers } from '../events/events-runtime.js';

export interface StartWorkerOverrides extends WorkerOverrides {
  /** Sign with these instead of the configured source (CLOUD_SDK_CREDENTIALS_SOURCE). */
  credentials?: Credentials | CredentialProvider | undefined;
  /** The registry to count in (default a new one, with the process metrics). */
  metrics?: Metrics | undefined;
}

export interface WorkerService {
  readonly settings: WorkerSettings;
  readonly pool: CleanupWorker;
  readonly metrics: Metrics;
  /** The port /metrics and /healthz listen on; undefined when they are off. */
  readonly metricsPort: number | undefined;
  /** Stops the schedules and the pool (in-flight jobs get the shutdown timeout), then the rest. */
  close(): Promise<void>;
}

/** Checks Redis (PING, eviction policy), then starts the worker's parts; throws before starting any on a bad Redis. */
export async function startWorker(app: App, overrides: StartWorkerOverrides = {}): Promise<WorkerService> {
  const { config, logger } = app;
  const settings = resolveWorkerSettings(config, overrides);
  // Credentials first: a bad credential setting is reported before Redis is even asked.
  const credentials = overrides.credentials ?? createConfiguredCredentialProvider(config, logger);
  await pingRedis(app.connection);
  await checkEvictionPolicy(app.connection, { allowEviction: config.REDIS_ALLOW_EVICTION, logger });
  // Reads CLEANUP_WEBHOOKS_FILE: a bad file stops the worker here, before anything starts.
  const events = app.events();
  const metrics = overrides.metrics ?? createMetrics();
  const releases: (() => Promise<void>)[] = [];
  const release = async (): Promise<void> => {
    for (const step of releases.reverse()) await step();
    releases.length = 0;
  };
  try {
    const clients = createClientRegistry(config, credentials, logger);
    releases.push(() => clients.close());
    const started: { pool?: CleanupWorker; schedules?: ScheduleWorker } = {};
    const metricsServer = await serveWorkerMetrics(app, metrics, settings.metricsPort, () => started.pool);
    if (metricsServer) releases.push(() => metricsServer.close());
    const { metricsPort: _port, schedules: _schedules, ...poolSettings } = settings;
    const pool = await createCleanupWorker({
      connection: app.connection,
      prefix: app.prefix,
      getClient: (region) => clients.get(region),
      logger,
      metrics,
      ...poolSettings,
      runs: app.runs(),
      events,
    });
    started.pool = pool;
    // In-flight jobs get the shutdown timeout (then their requests are aborted and the jobs put
    // back); past it and a few seconds more, the connections are ended under BullMQ.
    releases.push(() =>
      settleWithin(
        Promise.all([started.schedules?.close(), pool.close()]),
        settings.shutdownTimeoutMs + CLOSE_WAIT_MS,
      ),
    );
    // Scheduled purges fire in every worker process; BullMQ hands each firing to one of them.
    if (settings.schedules) {
      started.schedules = createScheduleWorker({
        connection: app.connection,
        prefix: app.prefix,
        logger,
        getLister: (region) => clients.get(region),
        producer: app.producer(),
        runs: app.runs(),
        events,
      });
    }
    // Webhook deliveries and the dead-letter threshold check, apart from the deletions.
    const eventConsumers = startEventConsumers(config, {
      connection: app.connection,
      prefix: app.prefix,
      logger,
      events,
      deadLetterCount: () => pool.deadLetters.count(),
      registry: metrics.registry,
    });
    releases.push(() => settleWithin(eventConsumers.close(), settings.shutdownTimeoutMs + CLOSE_WAIT_MS));
    let closing: Promise<void> | undefined;
    return {
      settings,
      pool,
      metrics,
      metricsPort: metricsServer?.port,
      close: () => (closing ??= release()),
    };
  } catch (err) {
    await release().catch(() => undefined);
    throw err;
  }
}

/**
 * startWorker: a worker process's running parts, built from an App. The `worker` command, the demo,
 * the test harness and (through the CLI) the benchmarks all start the pool here, so they run the
 * same wiring; they differ only by overrides (src/app/worker-settings.ts).
 *
 * Started in this order, released in the reverse one by `close()`:
 *   accounts (each one's credentials and DCS clients) -> metrics server (/metrics, /healthz) ->
 *   one cleanup worker pool per account -> schedule worker (the two stop together, within the
 *   shutdown timeout) -> webhook deliveries and the dead-letter alert check.
 * The App (connection, producer, dead letters) stays its owner's: close it after the service.
 */
import { Credentials } from '../huawei/credentials.js';
import { createStaticCredentialProvider, type CredentialProvider } from '../huawei/credential-provider.js';
import { createAccountRegistry, type AccountRegistry } from '../accounts/account-registry.js';
import { createAccountWorkers, type AccountWorkers } from '../queue/account-queues.js';
import type { CleanupWorker } from '../queue/worker.js';
import { createScheduleWorker, type ScheduleWorker } from '../queue/schedule-worker.js';
import { checkEvictionPolicy } from '../queue/eviction-check.js';
import { createMetrics, type Metrics } from '../observability/metrics.js';
import { CLOSE_WAIT_MS, pingRedis, settleWithin, type App } from './create-app.js';
import { resolveWorkerSettings, type WorkerOverrides, type WorkerSettings } from './worker-settings.js';
import { serveWorkerMetrics } from './worker-metrics.js';
import { startEventConsumers } from '../events/events-runtime.js';

export interface StartWorkerOverrides extends WorkerOverrides {
  /** The default account signs with these instead of its configured source (tests, the demo). */
  credentials?: Credentials | CredentialProvider | undefined;
  /** The registry to count in (default a new one, with the process metrics). */
  metrics?: Metrics | undefined;
}

export interface WorkerService {
  readonly settings: WorkerSettings;
  /** One pool per account (src/queue/account-queues.ts). */
  readonly pools: AccountWorkers;
  /** The default account's pool. */
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
  // Accounts and credentials first: a bad accounts file or credential setting of any account is
  // reported before Redis is even asked.
  const accounts = accountsFor(app, overrides.credentials);
  for (const account of accounts.all()) account.provider();
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
    if (accounts !== app.accounts()) releases.push(() => accounts.close());
    const started: { pools?: AccountWorkers; schedules?: ScheduleWorker } = {};
    const metricsServer = await serveWorkerMetrics(app, metrics, settings.metricsPort, () => started.pools);
    if (metricsServer) releases.push(() => metricsServer.close());
    const { metricsPort: _port, schedules: _schedules, ...poolSettings } = settings;
    // One pool per account, each on its account's queue with its credentials and breaker.
    const pools = await createAccountWorkers({
      connection: app.connection,
      prefix: app.prefix,
      registry: accounts,
      logger,
      metrics,
      ...poolSettings,
      runs: app.runs(),
      events,
    });
    started.pools = pools;
    // In-flight jobs get the shutdown timeout (then their requests are aborted and the jobs put
    // back); past it and a few seconds more, the connections are ended under BullMQ.
    releases.push(() =>
      settleWithin(
        Promise.all([started.schedules?.close(), pools.close()]),
        settings.shutdownTimeoutMs + CLOSE_WAIT_MS,
      ),
    );
    // Scheduled purges fire in every worker process; BullMQ hands each firing to one of them.
    if (settings.schedules) {
      started.schedules = createScheduleWorker({
        connection: app.connection,
        prefix: app.prefix,
        logger,
        getLister: (region, scope) => accounts.ofScope(scope).clients().get(region),
        queueOf: (scope) => accounts.ofScope(scope).queueName,
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
      deadLetterCount: () => app.deadLetters().count(),
      registry: metrics.registry,
    });
    releases.push(() => settleWithin(eventConsumers.close(), settings.shutdownTimeoutMs + CLOSE_WAIT_MS));
    let closing: Promise<void> | undefined;
    return {
      settings,
      pools,
      pool: pools.pools.get(accounts.defaultName)!,
      metrics,
      metricsPort: metricsServer?.port,
      close: () => (closing ??= release()),
    };
  } catch (err) {
    await release().catch(() => undefined);
    throw err;
  }
}

/** The app's accounts; with `credentials`, the same accounts with the default one signing with them. */
function accountsFor(app: App, credentials: Credentials | CredentialProvider | undefined): AccountRegistry {
  const configured = app.accounts();
  if (credentials === undefined) return configured;
  const provider =
    credentials instanceof Credentials ? createStaticCredentialProvider(credentials) : credentials;
  return createAccountRegistry(app.config, {
    logger: app.logger,
    providers: { [configured.defaultName]: provider },
  });
}

import type { Command } from 'commander';
import { loadConfig } from '../config/config.js';
import { createApp, startWorker, type WorkerOverrides } from '../app.js';
import { EXIT_CODES, runCommand, type RunningService } from './run-command.js';
import { parseIntOption, parseRateLimitOption } from './options.js';

interface WorkerFlags {
  concurrency?: number;
  rateLimit?: number | 'auto';
  exitWhenIdle?: boolean;
  metricsPort?: number;
  shutdownTimeout?: number;
  lockDurationMs?: number;
}

/** The flags as overrides of the configuration (src/app/worker-settings.ts resolves the rest). */
export function workerOverrides(flags: WorkerFlags): WorkerOverrides {
  return {
    concurrency: flags.concurrency,
    rateLimitPerSecond: flags.rateLimit,
    metricsPort: flags.metricsPort,
    shutdownTimeoutMs: flags.shutdownTimeout === undefined ? undefined : flags.shutdownTimeout * 1_000,
    lockDurationMs: flags.lockDurationMs,
  };
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
      'on SIGTERM, how long in-flight requests may finish before they are aborted (default WORKER_SHUTDOWN_TIMEOUT_SEC, 10)',
      parseIntOption('--shutdown-timeout', 0, 3_600),
    )
    .option(
      '--lock-duration-ms <ms>',
      'how long a job stays claimed by a worker that died (kill -9) before another worker takes it over (default WORKER_LOCK_DURATION_MS, 30000)',
      parseIntOption('--lock-duration-ms', 1_000, 600_000),
    )
    .addHelpText(
      'after',
      '\nExample:\n  CLOUD_SDK_AK=... CLOUD_SDK_SK=... dcs-cleanup worker --concurrency 64 --rate-limit 100\n',
    )
    .action(runCommand(runWorker));
}

async function runWorker(flags: WorkerFlags): Promise<RunningService> {
  const app = createApp(loadConfig(), { role: 'worker' });
  const { logger } = app;
  const worker = await startWorker(app, workerOverrides(flags)).catch(async (err: unknown) => {
    await app.close();
    throw err;
  });
  logger.info(
    {
      concurrency: worker.settings.concurrency,
      rate_limit: worker.settings.rateLimitPerSecond,
      prefix: app.prefix,
      accounts: app.accounts().names,
      metrics_port: worker.metricsPort ?? null,
    },
    'worker started',
  );
  return {
    onSignal: (signal) => logger.info({ signal }, 'shutting down'),
    ...(flags.exitWhenIdle ? { ended: exitWhenIdle(worker.pools) } : {}),
    close: async () => {
      await worker.close();
      await app.close();
      logger.info('worker stopped');
      logger.flush();
    },
  };
}

/** --exit-when-idle: exit 0 once the queue is idle, 1 when the circuit breaker paused it. */
async function exitWhenIdle(pool: { waitUntilIdle(): Promise<'idle' | 'paused'> }): Promise<number> {
  if ((await pool.waitUntilIdle()) === 'idle') return EXIT_CODES.ok;
  process.stderr.write(
    'dcs-cleanup: the circuit breaker paused a queue (see the fatal log record and `dcs-cleanup status`); fix the credentials or endpoint, then run `dcs-cleanup resume`\n',
  );
  return EXIT_CODES.failure;
}
